"""The sliding two-window counter throttles of `utils/throttling.py`, on local memory and Redis.

A clock is patched into the throttle (`timer`), so windows are exact: rate 3/min, windows start at
multiples of 60 s. Checked: the 4th request in a window is 429 with `Retry-After`, rejected requests
are not counted, the previous window weighs in proportionally, everything is forgotten after two
windows, keys (user id / IP / NUM_PROXIES / scope), fail-open when Redis is down.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from conftest import require_service
from utils import throttling

T0 = 6000.0  # the start of a 60 s window


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _redis_cache():
    require_service("Redis", bool(settings.REDIS_URL), "REDIS_URL unset")
    from django_redis.cache import RedisCache

    cache = RedisCache(
        f"{settings.REDIS_URL}/{settings.REDIS_DB_BASE}",
        {"KEY_PREFIX": "throttle-test", "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1}},
    )
    try:
        cache.clear()
    except Exception:
        require_service("Redis", False, "not answering")
    return cache


@pytest.fixture(params=["locmem", "redis"])
def store(request):
    if request.param == "locmem":
        cache = LocMemCache("throttle-test", {})
        cache.clear()
        return cache
    return _redis_cache()


def make_view(throttle_class: type, cache, clock: Clock, scope: str | None = None):
    throttle = type(
        "TestThrottle", (throttle_class,), {"cache": cache, "timer": clock, "rate": "3/min"}
    )
    if throttle_class is throttling.ScopedRateThrottle:
        throttle.THROTTLE_RATES = {"things": "3/min"}
        del throttle.rate  # the scoped throttle takes its rate from the view's scope

    class View(APIView):
        permission_classes = ()
        throttle_classes = (throttle,)
        throttle_scope = scope

        def get(self, request):
            return Response({"ok": True})

    return View.as_view()


def call(view, user=None, **meta):
    request = APIRequestFactory().get("/", **meta)
    force_authenticate(request, user=user or AnonymousUser())
    return view(request)


def codes(view, n: int, **kwargs) -> list[int]:
    return [call(view, **kwargs).status_code for _ in range(n)]


def test_fourth_request_in_the_window_is_429_with_retry_after(store):
    clock = Clock()
    view = make_view(throttling.AnonRateThrottle, store, clock)
    assert codes(view, 3) == [200, 200, 200]
    clock.now = T0 + 30
    response = call(view)
    assert response.status_code == 429
    # 30 s left in this window, then 3·(1 − t/60) + 1 ≤ 3 at t = 20 s into the next one
    assert response["Retry-After"] == "50"


def test_rejected_requests_are_not_counted_and_the_previous_window_weighs_in(store):
    clock = Clock()
    view = make_view(throttling.AnonRateThrottle, store, clock)
    assert codes(view, 3) == [200, 200, 200]
    assert codes(view, 5) == [429] * 5  # not counted: the estimate stays at 3
    clock.now = T0 + 60 + 10  # previous window weighs 3·(50/60) = 2.5: 2.5 + 1 > 3
    assert call(view).status_code == 429
    clock.now = T0 + 60 + 20  # 3·(40/60) = 2: one more fits, not two
    assert codes(view, 2) == [200, 429]


def test_counters_are_forgotten_after_two_windows(store):
    clock = Clock()
    view = make_view(throttling.AnonRateThrottle, store, clock)
    assert codes(view, 4) == [200, 200, 200, 429]
    clock.now = T0 + 120
    assert codes(view, 4) == [200, 200, 200, 429]


def test_user_throttle_is_per_user_and_anon_throttle_ignores_users(store, django_user_model):
    clock = Clock()
    users = [django_user_model(pk=pk, username=f"u{pk}") for pk in (1, 2)]
    view = make_view(throttling.UserRateThrottle, store, clock)
    assert codes(view, 4, user=users[0]) == [200, 200, 200, 429]
    assert codes(view, 1, user=users[1]) == [200]
    anon_view = make_view(throttling.AnonRateThrottle, store, clock)
    assert codes(anon_view, 5, user=users[0]) == [200] * 5


def test_ip_keys_follow_num_proxies(store):
    clock = Clock()
    view = make_view(throttling.IPScopedRateThrottle, store, clock)
    view.cls.throttle_classes[0].scope = "ip"
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        hops = {"REMOTE_ADDR": "10.0.0.1"}
        assert codes(view, 3, HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2", **hops) == [200] * 3
        # the client is the address the one proxy saw: 2.2.2.2 is out of requests
        assert call(view, HTTP_X_FORWARDED_FOR="9.9.9.9, 2.2.2.2", **hops).status_code == 429
        assert call(view, HTTP_X_FORWARDED_FOR="2.2.2.2, 3.3.3.3", **hops).status_code == 200


def test_scoped_throttle_uses_the_views_scope(store):
    clock = Clock()
    view = make_view(throttling.ScopedRateThrottle, store, clock, scope="things")
    assert codes(view, 4) == [200, 200, 200, 429]
    unscoped = make_view(throttling.ScopedRateThrottle, store, clock, scope=None)
    assert codes(unscoped, 5) == [200] * 5


def test_redis_down_fails_open(caplog):
    import redis

    cache = _redis_cache()
    view = make_view(throttling.AnonRateThrottle, cache, Clock())
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    throttle = view.cls.throttle_classes[0]
    throttle._redis = lambda self: dead
    assert codes(view, 5) == [200] * 5
    assert "counter store unavailable" in caplog.text


def test_one_redis_round_trip_per_allowed_request():
    from redis.client import Pipeline

    cache = _redis_cache()
    view = make_view(throttling.AnonRateThrottle, cache, Clock())
    calls = []
    original = Pipeline.execute

    def counting(self, *args, **kwargs):
        calls.append([c[0][0] for c in self.command_stack])
        return original(self, *args, **kwargs)

    Pipeline.execute = counting
    try:
        assert call(view).status_code == 200
    finally:
        Pipeline.execute = original
    assert calls == [["INCRBY", "EXPIRE", "GET"]]  # redis-py sends INCR as INCRBY 1
