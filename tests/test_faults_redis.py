"""Fault: Redis down (issue 7 §4).

A throwaway `redis-server` on a free port (never the shared one) backs every cache alias; the test
checks the captcha works while it is up, kills it, and then: captcha and login answer 503
`{"detail": "Cache is temporarily unavailable."}` (they use the raw client on purpose), while reads
that do not need Redis keep working — cached reads (area list, topic list) and throttles degrade
to misses (`DJANGO_REDIS_IGNORE_EXCEPTIONS=True`, fail-open throttles) and answer from the DB.
"""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from apps.users.tests.factories import AddressFactory, StudentFactory
from apps.work.tests.factories import LabelFactory, SingleTopicFactory
from conftest import require_service
from tests.faults.redis import ThrowawayRedis

CACHE_DOWN = "Cache is temporarily unavailable."
SLOW = 5.0  # seconds: a request slower than this counts as a hang (socket timeouts are 2 s)


def _redis_caches(url: str, settings) -> dict:
    """The three cache aliases of config.settings, on `url` (same db numbers and prefixes)."""

    def alias(db: int, prefix: str) -> dict:
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"{url}/{db}",
            "KEY_PREFIX": prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,  # seconds, as in settings
                "SOCKET_TIMEOUT": 2,
            },
        }

    return {"default": alias(0, "stsys"), "verify_codes": alias(1, ""), "area": alias(4, "stsys")}


@pytest.fixture
def throwaway_redis(settings):
    """Every cache alias on a throwaway redis-server (Django resets `caches` on the override)."""
    require_service("redis-server", ThrowawayRedis.available(), "redis-server binary missing")
    server = ThrowawayRedis()
    server.start()
    settings.CACHES = _redis_caches(server.url, settings)
    yield server
    server.close()


def _timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


@pytest.mark.django_db
def test_redis_down_captcha_and_login_503_reads_keep_working(throwaway_redis, client_for):
    student = StudentFactory(username="fault_redis_student")
    province = AddressFactory(user=student).province
    topic = SingleTopicFactory(label=LabelFactory())
    anon, client = client_for(None), client_for(student)

    # up: the captcha is stored in the throwaway server (so the caches really point at it)
    key = str(uuid.uuid4())
    response = anon.get(f"/api/users/image/verification/{key}/")
    assert response.status_code == 200, response.content[:200]
    raw = redis.Redis.from_url(f"{throwaway_redis.url}/1")
    assert raw.exists(f"login:verification:{key}") == 1
    raw.close()
    assert client.get("/api/users/area/").status_code == 200  # warms the area cache

    throwaway_redis.kill()

    response, seconds = _timed(lambda: anon.get(f"/api/users/image/verification/{uuid.uuid4()}/"))
    assert response.status_code == 503, response.content[:200]
    assert response.json()["detail"] == CACHE_DOWN
    assert seconds < SLOW

    body = {
        "username": student.username,
        "password": "pw-Secret-123",
        "uuid": key,
        "verify": "AB12",
    }
    response, seconds = _timed(lambda: anon.post("/api/users/login/", body, format="json"))
    assert response.status_code == 503, response.content[:200]
    assert response.json()["detail"] == CACHE_DOWN
    assert seconds < SLOW

    # reads without Redis: cache misses, answered from the database
    response, seconds = _timed(lambda: client.get("/api/users/area/"))
    assert response.status_code == 200, response.content[:200]
    assert province.id in [row["id"] for row in response.json()]
    assert seconds < SLOW
    response, seconds = _timed(lambda: client.get("/api/work/topics/"))
    assert response.status_code == 200, response.content[:200]
    assert topic.id in [row["id"] for row in response.json()["results"]]
    assert seconds < SLOW
