"""JWT authentication (simplejwt, `Authorization: Bearer <access>`, API.md §1.2)."""

import threading
import time
from collections import OrderedDict

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from apps.users.auth_state import load_user_state_with, user_from_state
from apps.users.models import User
from utils import cache as response_cache
from utils import throttling

VERIFIED_TOKENS_MAX = 4096  # per process


class _VerifiedTokens:
    """A per-process LRU of access tokens whose signature, type and claims simplejwt accepted.

    A token's validity depends only on its bytes, the signing key and the clock (access tokens are
    never blacklisted; the user's state is checked on every request anyway), so a verified token is
    reused until its `exp` without checking the HMAC again. Keyed by (signing key, raw token).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple, tuple[Token, float]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Token | None:
        with self.lock:
            found = self.items.get(key)
            if found is None:
                return None
            if found[1] <= time.time():
                del self.items[key]
                return None
            self.items.move_to_end(key)
            return found[0]

    def put(self, key: tuple, token: Token) -> None:
        exp = token.payload.get("exp")
        if not isinstance(exp, int | float):
            return
        with self.lock:
            self.items[key] = (token, float(exp))
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_verified = _VerifiedTokens(VERIFIED_TOKENS_MAX)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's Bearer authentication with the user resolved from its cached state.

    Signature and expiry are checked by simplejwt as usual; the user's `is_active` and role come
    from `apps.users.auth_state` (cached, invalidated on every change), so a deactivated user's
    tokens are rejected (401) without loading the user row on every request.
    Raises `InvalidToken` (no user id claim) or `AuthenticationFailed` (unknown or inactive user).
    """

    www_authenticate_realm = "api"
    _request = None

    def authenticate(self, request):
        self._request = request  # an authenticator instance serves one request (DRF)
        return super().authenticate(request)

    def get_validated_token(self, raw_token: bytes) -> Token:
        key = (api_settings.SIGNING_KEY, api_settings.ALGORITHM, raw_token)
        token = _verified.get(key)
        if token is None:
            token = super().get_validated_token(raw_token)  # InvalidToken when not valid
            _verified.put(key, token)
        return token

    def get_user(self, validated_token: Token) -> User:
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        # One Redis round trip: the user's state, the response-cache versions of a cached view and
        # the view's throttle counters for this user (a request of a user found inactive is then
        # counted too; it is answered 401 anyway).
        view = (getattr(self._request, "parser_context", None) or {}).get("view")
        namespaces = getattr(view, "cache_namespaces", ())
        counters = (
            throttling.counters_for(self._request, view, throttling.ProspectiveUser(user_id))
            if self._request is not None
            else []
        )
        state, found, counts = load_user_state_with(
            user_id, [response_cache.version_key(ns) for ns in namespaces], counters
        )
        if namespaces:
            response_cache.remember_versions(self._request, found)
        if counts is not None:
            throttling.prepare_counts(self._request, counters, counts)
        if state is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not state["is_active"]:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user_from_state(state)
