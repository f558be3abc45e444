"""Per-process copies of versioned response bodies (`utils.cache.LocalFirstCache`, issue 7).

A cached read whose key embeds the current versions is served from this process's copy without a
second Redis round trip; a write anywhere (a version bump in Redis) changes the key, so no process
serves its old copy after it. Needs Redis: with the embedded default (every cache in process
memory) there is no second tier to skip.
"""

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_extensions.key_constructor import bits
from rest_framework_extensions.key_constructor.constructors import DefaultKeyConstructor

from apps.users.models import Area
from apps.users.tests.factories import CityFactory, UserFactory
from apps.work.models import Topic
from apps.work.tests.factories import TopicFactory
from utils import cache as response_cache
from utils.cache import (
    LOCAL_CACHE,
    LOCAL_MAX_BYTES,
    LocalFirstCache,
    VersionedCacheResponse,
    VisibilityKeyConstructor,
    local_copies_enabled,
)

AREA_URL = "/api/users/area/"
TOPICS_URL = "/api/work/topics/"


def _area_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "area" in q["sql"].lower()]


@pytest.mark.django_db
def test_warm_read_is_served_from_this_process_copy(redis_required, client_for):
    city = CityFactory(name="原名")
    client = client_for(UserFactory())
    assert client.get(f"{AREA_URL}{city.pk}/").json()["name"] == "原名"  # cached in both tiers
    Area.objects.filter(pk=city.pk).update(name="新名")  # no version bump: cached bodies stand
    caches["area"].clear()  # the shared copy is gone ...
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"{AREA_URL}{city.pk}/").json()
    assert body["name"] == "原名"  # ... and the body still comes from this process's copy
    assert _area_queries(queries) == []


@pytest.mark.django_db
def test_a_version_bump_made_elsewhere_retires_the_process_copy(
    redis_required, client_for, student
):
    topic = TopicFactory(subject="旧题干")
    client = client_for(student)
    assert client.get(TOPICS_URL).json()["results"][0]["subject"] == "旧题干"
    assert client.get(TOPICS_URL).json()["results"][0]["subject"] == "旧题干"  # warm copy
    # another process's write: the row changes and the version in Redis moves on
    Topic.objects.filter(pk=topic.pk).update(subject="新题干")
    assert client.get(TOPICS_URL).json()["results"][0]["subject"] == "旧题干"  # not bumped yet
    response_cache.bump("work:topic")
    assert client.get(TOPICS_URL).json()["results"][0]["subject"] == "新题干"


class _Unversioned(DefaultKeyConstructor):
    unique_view = bits.UniqueViewIdKeyBit()


class _View:
    def __init__(self, namespaces: tuple[str, ...]) -> None:
        self.cache_namespaces = namespaces


def test_only_views_with_versioned_keys_get_process_copies():
    versioned = VersionedCacheResponse(key_func=VisibilityKeyConstructor())
    unversioned = VersionedCacheResponse(key_func=_Unversioned())
    assert versioned._versioned(_View(("work:topic",)))
    assert not versioned._versioned(_View(()))  # no namespace: the key never changes on writes
    assert not unversioned._versioned(_View(("work:topic",)))


class _DictCache:
    """A stand-in for the shared cache: a dict with the `get`/`set` CacheResponse uses."""

    def __init__(self) -> None:
        self.data: dict = {}
        self.gets = 0

    def get(self, key, default=None):
        self.gets += 1
        return self.data.get(key, default)

    def set(self, key, value, timeout=None):
        self.data[key] = value


def test_local_first_cache_reads_the_copy_first_and_keeps_big_bodies_shared_only():
    shared = _DictCache()
    cache = LocalFirstCache(shared)
    small = (b"{}", 200, {})
    big = (b"x" * (LOCAL_MAX_BYTES + 1), 200, {})
    cache.set("small", small, 60)
    cache.set("big", big, 60)
    assert caches[LOCAL_CACHE].get("small") == small
    assert caches[LOCAL_CACHE].get("big") is None
    assert cache.get("small") == small
    assert shared.gets == 0  # no shared read
    assert cache.get("big") == big
    assert shared.gets == 1
    shared.data["elsewhere"] = small  # written by another process
    assert cache.get("elsewhere") == small
    assert shared.gets == 2
    assert cache.get("elsewhere") == small
    assert shared.gets == 2  # copied on the first read
    assert cache.get("missing") is None


def test_no_process_copies_in_front_of_process_memory():
    assert not local_copies_enabled(LocMemCache("x", {}))
    assert local_copies_enabled(_DictCache())


@pytest.mark.django_db
@pytest.mark.parametrize("with_copies", [True, False], ids=["versioned", "plain"])
def test_a_cache_miss_is_rendered_once_and_a_hit_not_at_all(
    with_copies, client_for, student, monkeypatch
):
    """drf-extensions 0.8.0 renders a miss twice (render() + rendered_content, upstream #250)."""
    from rest_framework.renderers import JSONRenderer

    if not with_copies:  # the plain `cache_response` path of VersionedCacheResponse
        monkeypatch.setattr(VersionedCacheResponse, "_versioned", lambda self, view: False)
    TopicFactory(subject="渲染一次")
    calls = []
    original = JSONRenderer.render

    def counting(self, data, *args, **kwargs):
        calls.append(1)
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(JSONRenderer, "render", counting)
    client = client_for(student)
    first = client.get(TOPICS_URL)
    assert first.status_code == 200
    assert len(calls) == 1
    second = client.get(TOPICS_URL)
    assert len(calls) == 1  # served from the cache: no rendering
    assert second.content == first.content
    assert second.json()["results"][0]["subject"] == "渲染一次"
