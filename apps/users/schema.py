"""drf-spectacular extension: document our `JWTAuthentication` subclass as HTTP Bearer."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class BearerJWTScheme(SimpleJWTScheme):
    """OpenAPI security scheme `jwtAuth` (HTTP bearer, JWT) for `apps.users.authentication`."""

    target_class = "apps.users.authentication.JWTAuthentication"
