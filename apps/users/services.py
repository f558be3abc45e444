"""User services: one-time set-password links (API.md §2.1 "Set-password")."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.users.models import User


def set_password_link(*, user: User) -> str:
    """Return `{FRONTEND_URL}/set-password?uid=..&token=..` for `user`.

    The token is Django's `PasswordResetTokenGenerator`: valid `PASSWORD_RESET_TIMEOUT` seconds
    and single use, because it is bound to the password hash (and `last_login`).
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.FRONTEND_URL}/set-password?{urlencode({'uid': uid, 'token': token})}"
