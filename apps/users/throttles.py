"""IP-keyed scoped throttles of the anon endpoints (API.md §1.6): captcha, login, password_set."""

from rest_framework.throttling import SimpleRateThrottle


class IPScopedRateThrottle(SimpleRateThrottle):
    """A scoped throttle keyed by the client IP, even for authenticated callers.

    Rate from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]`. The IP is `REMOTE_ADDR`, or
    taken from `X-Forwarded-For` when `NUM_PROXIES` is set. Counters live in the `default` cache;
    429 answers carry `Retry-After` (seconds).
    """

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CaptchaThrottle(IPScopedRateThrottle):
    """Scope `captcha` (20/min per IP): captcha images."""

    scope = "captcha"


class LoginThrottle(IPScopedRateThrottle):
    """Scope `login` (10/min per IP): login and token refresh."""

    scope = "login"


class PasswordSetThrottle(IPScopedRateThrottle):
    """Scope `password_set` (10/min per IP): the set-password endpoint."""

    scope = "password_set"
