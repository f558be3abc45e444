"""Rate throttles with one Redis round trip per check: a sliding two-window counter.

DRF's `SimpleRateThrottle` keeps a list of request timestamps per key and reads and rewrites that
whole (pickled) list in the cache on every request: two round trips and a payload that grows with
the rate. Here each key has one integer counter per fixed window of `duration` seconds
(`<cache key>:<window number>`); a check is one pipelined `INCR` + `EXPIRE` of the current window
and `GET` of the previous one. The request count over the last `duration` seconds is estimated as

    previous · (1 − elapsed / duration) + current

(elapsed: seconds since the current window began), so a client cannot double its rate by
straddling a window boundary as with a plain fixed window. A rejected request is not counted
(its increment is taken back), as DRF does not record rejected requests.

Drop-in replacements keep DRF's scopes, rates (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, or
`rate`/`THROTTLE_RATES` set on a class) and keys: `AnonRateThrottle` (IP, anonymous only),
`UserRateThrottle` (user id, else IP), `ScopedRateThrottle` (`view.throttle_scope`; user id, else
IP) and `IPScopedRateThrottle` (scope + IP even for authenticated callers). The IP is DRF's
`get_ident` (`REMOTE_ADDR`, or `X-Forwarded-For` per `NUM_PROXIES`).

Storage: the raw Redis client of the throttle's cache when it is a django-redis cache; otherwise
(the embedded default without `REDIS_URL`: local memory) the Django cache API (`add` + `incr`).
Redis down: the request is allowed (fail open) and a warning is logged. A 429's `Retry-After` is
`wait()` rounded up: the seconds until the estimate drops below the limit.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from rest_framework import throttling

logger = logging.getLogger(__name__)


class WindowCounterMixin:
    """Replaces `SimpleRateThrottle.allow_request`/`wait` with the sliding two-window counter.

    Mix in before a `SimpleRateThrottle` subclass (which supplies `get_cache_key`, `get_rate`,
    `parse_rate`, `cache` and `timer`).
    """

    # set by allow_request for wait(): requests counted in the current/previous window, seconds
    # elapsed in the current window
    _current: int = 0
    _previous: int = 0
    _elapsed: float = 0.0

    def plan(self, request: Any, view: Any, now: float) -> tuple[str, str, int] | None:
        """`(current key, previous key, ttl seconds)` this throttle counts `request` under at `now`
        (None: not throttled). Lets a caller count it ahead, in a round trip it makes anyway
        (`prepare_counts`)."""
        if self.rate is None:
            return None
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        window = int(now // self.duration)
        return f"{key}:{window}", f"{key}:{window - 1}", math.ceil(self.duration * 2) + 1

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.key = key
        self.now = self.timer()
        window, elapsed = divmod(self.now, self.duration)
        window = int(window)
        current_key, previous_key = f"{key}:{window}", f"{key}:{window - 1}"
        counted = _prepared(request).pop(current_key, None)
        try:
            current, previous = counted or self._count(current_key, previous_key)
        except Exception:  # the cache is down: allow rather than fail every request
            logger.warning("throttle %s: counter store unavailable, request allowed", key)
            return True
        self._current, self._previous, self._elapsed = current, previous, elapsed
        if self._estimate(current, elapsed) <= self.num_requests:
            return True
        self._current -= 1  # not counted: take the increment back
        self._uncount(current_key)
        return False

    def _estimate(self, current: int, elapsed: float) -> float:
        return self._previous * (1 - elapsed / self.duration) + current

    def wait(self) -> float | None:
        """Seconds (≥ 1) until one more request would be allowed; DRF sends it as `Retry-After`."""
        return max(self._wait(), 1.0)

    def _wait(self) -> float:
        limit, duration = self.num_requests, self.duration
        remaining = duration - self._elapsed
        if self._current >= limit:  # not before the next window, where this one becomes previous
            if self._current == 0:
                return remaining
            # current · (1 − t / duration) + 1 ≤ limit at t seconds into the next window
            after = duration * (1 - (limit - 1) / self._current)
            return remaining + max(after, 0.0)
        # previous · (1 − (elapsed + w) / duration) + current + 1 ≤ limit
        if self._previous <= 0:
            return 0.0
        needed = duration * (1 - (limit - 1 - self._current) / self._previous) - self._elapsed
        return min(max(needed, 0.0), remaining)

    # --- storage ----------------------------------------------------------------------------------

    def _redis(self) -> Any | None:
        """The raw redis-py client of a django-redis cache, else None."""
        client = getattr(self.cache, "client", None)
        get_client = getattr(client, "get_client", None)
        return get_client(write=True) if get_client is not None else None

    def _count(self, current_key: str, previous_key: str) -> tuple[int, int]:
        """Increment the current window's counter; return (current, previous) counts."""
        ttl = math.ceil(self.duration * 2) + 1  # the previous window is read one window on
        redis = self._redis()
        if redis is not None:
            current_key = self.cache.make_key(current_key)
            pipe = redis.pipeline(transaction=False)
            pipe.incr(current_key)
            pipe.expire(current_key, ttl)
            pipe.get(self.cache.make_key(previous_key))
            current, _, previous = pipe.execute()
            return int(current), int(previous or 0)
        cache = self.cache  # local memory (the embedded default) or any other Django cache
        cache.add(current_key, 0, ttl)
        try:
            current = cache.incr(current_key)
        except ValueError:  # expired between add and incr
            cache.add(current_key, 1, ttl)
            current = 1
        return int(current), int(cache.get(previous_key) or 0)

    def _uncount(self, current_key: str) -> None:
        try:
            redis = self._redis()
            if redis is not None:
                redis.decr(self.cache.make_key(current_key))
            else:
                self.cache.decr(current_key)
        except Exception:  # best effort: an over-count only makes the limit stricter
            logger.warning("throttle %s: could not take back a rejected request", current_key)


# --- counting ahead ------------------------------------------------------------------------------

PREPARED_ATTR = "_throttle_counts"


def _prepared(request: Any) -> dict[str, tuple[int, int]]:
    return getattr(getattr(request, "_request", request), PREPARED_ATTR, None) or {}


def counters_for(request: Any, view: Any, user: Any) -> list[tuple[str, str, int]]:
    """The counters (see `WindowCounterMixin.plan`) the view's throttles will use for `user`.

    For a caller that reads the `default` cache before the throttles run (the authentication) and
    can count in the same round trip: pass the result to `utils.cache.get_many_and_count`, then
    `prepare_counts`. Only counter throttles on the `default` cache are planned.
    """
    if view is None or not hasattr(view, "get_throttles"):
        return []
    from django.core.cache import cache as default_cache

    probe = _Probe(user, getattr(request, "META", {}))
    now = None
    planned = []
    for throttle in view.get_throttles():
        if not isinstance(throttle, WindowCounterMixin) or throttle.cache is not default_cache:
            continue
        now = throttle.timer() if now is None else now
        try:
            plan = throttle.plan(probe, view, now)
        except Exception:  # e.g. a scope without a rate: the throttle itself will say so
            continue
        if plan is not None:
            planned.append(plan)
    return planned


def prepare_counts(request: Any, planned: list[tuple[str, str, int]], counts: list) -> None:
    """Keep the `(current, previous)` counts of `planned` counters for this request's throttles,
    which then use them instead of counting again (each once)."""
    prepared = {plan[0]: count for plan, count in zip(planned, counts, strict=True)}
    setattr(getattr(request, "_request", request), PREPARED_ATTR, prepared)


class ProspectiveUser:
    """What a throttle key reads of an authenticated user (`is_authenticated`, `pk`), before the
    user is loaded: `counters_for(request, view, ProspectiveUser(user_id))`."""

    is_authenticated = True

    def __init__(self, pk: int) -> None:
        self.pk = self.id = pk


class _Probe:
    """The parts of a request a throttle key reads: the (prospective) user and `META`."""

    def __init__(self, user: Any, meta: dict) -> None:
        self.user, self.META = user, meta


class AnonRateThrottle(WindowCounterMixin, throttling.AnonRateThrottle):
    """Scope `anon`: anonymous callers by IP (authenticated ones are not counted here)."""


class UserRateThrottle(WindowCounterMixin, throttling.UserRateThrottle):
    """Scope `user` (or a subclass's `scope`): authenticated callers by user id, others by IP."""


class ScopedRateThrottle(WindowCounterMixin, throttling.ScopedRateThrottle):
    """Scope from `view.throttle_scope` (no scope: not throttled); user id, else IP."""

    def _scope_from(self, view: Any) -> bool:
        # as DRF's: the scope, hence the rate, is known only once called by the view
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return False
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return True

    def plan(self, request: Any, view: Any, now: float) -> tuple[str, str, int] | None:
        return super().plan(request, view, now) if self._scope_from(view) else None

    def allow_request(self, request: Any, view: Any) -> bool:
        if not self._scope_from(view):
            return True
        return super().allow_request(request, view)


class IPScopedRateThrottle(WindowCounterMixin, throttling.SimpleRateThrottle):
    """A scoped throttle keyed by the client IP, even for authenticated callers (set `scope`)."""

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
