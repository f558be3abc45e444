"""IP-keyed scoped throttles of the anon endpoints (API.md §1.6): captcha, login, password_set."""

from utils.throttling import IPScopedRateThrottle


class CaptchaThrottle(IPScopedRateThrottle):
    """Scope `captcha` (20/min per IP): captcha images.

    Rate from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["captcha"]`; the IP is `REMOTE_ADDR`, or
    taken from `X-Forwarded-For` when `NUM_PROXIES` is set (see `utils.throttling`); 429 answers
    carry `Retry-After` (seconds).
    """

    scope = "captcha"


class LoginThrottle(IPScopedRateThrottle):
    """Scope `login` (10/min per IP): login and token refresh."""

    scope = "login"


class PasswordSetThrottle(IPScopedRateThrottle):
    """Scope `password_set` (10/min per IP): the set-password endpoint."""

    scope = "password_set"
