"""JWT authentication (simplejwt, `Authorization: Bearer <access>`, API.md §1.2)."""

from rest_framework_simplejwt import authentication


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication with the `Bearer realm="api"` challenge.

    The user row is resolved on every request, so a deactivated user's tokens are rejected (401).
    """

    www_authenticate_realm = "api"
