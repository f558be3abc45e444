"""JWT authentication (simplejwt, `Authorization: Bearer <access>`, API.md §1.2)."""

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from apps.users.auth_state import load_user_state, user_from_state
from apps.users.models import User


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's Bearer authentication with the user resolved from its cached state.

    Signature and expiry are checked by simplejwt as usual; the user's `is_active` and role come
    from `apps.users.auth_state` (cached, invalidated on every change), so a deactivated user's
    tokens are rejected (401) without loading the user row on every request.
    Raises `InvalidToken` (no user id claim) or `AuthenticationFailed` (unknown or inactive user).
    """

    www_authenticate_realm = "api"

    def get_user(self, validated_token: Token) -> User:
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        state = load_user_state(user_id)
        if state is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not state["is_active"]:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user_from_state(state)
