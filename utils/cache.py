"""Response-cache keys for drf-extensions that cannot leak across roles or serve stale data.

Every key holds (a) the caller's visibility bucket (`role`, API.md §1.7), optionally the user id,
and (b) a per-namespace "last updated" version that `bump()` changes on every write, so a write
invalidates all cached bodies of that namespace at once (old entries simply expire).

Because such a key names one immutable body, `versioned_cache_response` /
`VersionedCacheResponseMixin` also keep a per-process copy (the `local` cache) in front of the
shared one: a warm read then costs the one Redis round trip that reads the caller's auth state,
versions and throttle counters together (`apps.users.authentication`), not a second one.
"""

import logging
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse
from rest_framework_extensions.cache.decorators import CacheResponse
from rest_framework_extensions.key_constructor import bits
from rest_framework_extensions.key_constructor.constructors import DefaultKeyConstructor
from rest_framework_extensions.settings import extensions_api_settings

logger = logging.getLogger(__name__)

VERSION_KEY = "lastupdated:{namespace}"


def _version_cache():
    return caches["default"]


def version_key(namespace: str) -> str:
    """The `default`-cache key holding the namespace's version."""
    return VERSION_KEY.format(namespace=namespace)


def current_version(namespace: str) -> str:
    """Return the namespace's last-updated marker (a nanosecond timestamp string)."""
    return current_versions((namespace,))[namespace]


def current_versions(namespaces: Iterable[str], *, known: dict[str, str] | None = None) -> dict:
    """Return `{namespace: version}` for `namespaces` in one cache round trip (`get_many`).

    `known`: versions already read in this request (see `remember_versions`); only the others are
    fetched. A namespace never bumped gets a version now (`add`, so concurrent first readers agree).
    """
    known = known or {}
    versions = {ns: known[ns] for ns in namespaces if ns in known}
    missing = [ns for ns in namespaces if ns not in versions]
    if missing:
        cache = _version_cache()
        found = cache.get_many([version_key(ns) for ns in missing])
        for ns in missing:
            value = found.get(version_key(ns))
            if value is None:
                value = str(time.time_ns())
                if not cache.add(version_key(ns), value, timeout=None):
                    value = cache.get(version_key(ns)) or value
            versions[ns] = value
    return versions


# One Redis command for a request's pre-view reads: MGET of KEYS[1..n] (n = ARGV[1]), then per
# throttle counter (KEYS pairs after them, TTLs in ARGV[2..]): INCR + EXPIRE of the current window,
# GET of the previous one. Reply: the n values, then (current, previous) per counter.
_READ_AND_COUNT = """
local n = tonumber(ARGV[1])
local out = {}
if n > 0 then out = redis.call('MGET', unpack(KEYS, 1, n)) end
local j = 2
for i = n + 1, #KEYS, 2 do
  out[#out + 1] = redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[j])
  out[#out + 1] = redis.call('GET', KEYS[i + 1])
  j = j + 1
end
return out
"""
_SCRIPTS: dict[int, Any] = {}  # id(redis client) → registered script


def get_many_and_count(
    keys: list[str], counters: list[tuple[str, str, int]]
) -> tuple[dict[str, Any], list[tuple[int, int]] | None]:
    """`get_many(keys)` on the `default` cache plus, in the same Redis round trip, the throttle
    counters `counters` (`(current key, previous key, ttl)`, see `utils.throttling.counters_for`):
    `INCR`+`EXPIRE` of the current key, `GET` of the previous one.

    One command (a Lua script run with `EVALSHA`, atomic), which costs the web process less than a
    pipeline of its parts. Needs a single Redis server or a primary (not Redis Cluster: the keys may
    hash to different slots), as deployed in docker/ and deploy/. Returns `(found, counts)`: `counts` is `[(current, previous)]` in
    `counters` order, or None when nothing was counted (no counters, not a django-redis cache, or
    Redis failed: then `found` comes from a plain `get_many`, which treats an outage as misses).
    """
    cache = _version_cache()
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    if not counters or get_client is None:
        return (cache.get_many(keys) if keys else {}), None
    try:
        client = get_client(write=True)
        script = _SCRIPTS.get(id(client))
        if script is None:
            script = _SCRIPTS[id(client)] = client.register_script(_READ_AND_COUNT)
        made = [cache.make_key(k) for k in keys]
        windows = [cache.make_key(k) for c in counters for k in c[:2]]
        replies = script(keys=[*made, *windows], args=[len(made), *(c[2] for c in counters)])
    except Exception:
        logger.warning("cache: batched read failed, reading without counting", exc_info=True)
        return (cache.get_many(keys) if keys else {}), None
    values, tail = replies[: len(made)], replies[len(made) :]
    found = {k: cache.client.decode(v) for k, v in zip(keys, values, strict=True) if v is not None}
    counts = [(int(tail[i]), int(tail[i + 1] or 0)) for i in range(0, len(tail), 2)]
    return found, counts


def remember_versions(request: Any, found: dict[str, Any]) -> None:
    """Keep versions read together with other keys (e.g. the caller's auth state) for this request.

    `found`: a `get_many` answer over `version_key(...)` keys (absent keys are skipped). Only a
    safe (GET/HEAD) request uses them, for its own response-cache key: they are read before the
    body is computed, as a key-time read would be, so no cached body is labelled newer than it is.
    """
    prefix = VERSION_KEY.format(namespace="")
    versions = {k[len(prefix) :]: v for k, v in found.items() if k.startswith(prefix)}
    getattr(request, "_request", request)._cache_versions = versions


def remembered_versions(request: Any) -> dict[str, str] | None:
    """Versions kept by `remember_versions` for this GET/HEAD request, else None."""
    if request is None or request.method not in ("GET", "HEAD"):
        return None
    return getattr(getattr(request, "_request", request), "_cache_versions", None)


def bump(*namespaces: str) -> None:
    """Mark the namespaces as changed now; every cached response keyed on them is bypassed."""
    cache = _version_cache()
    stamp = str(time.time_ns())
    cache.set_many({version_key(ns): stamp for ns in namespaces}, timeout=None)


class RoleKeyBit(bits.KeyBitBase):
    """The caller's visibility bucket: `anon`, `user`, `student`, `teacher` or `staff`."""

    def get_data(self, params, view_instance, view_method, request, args, kwargs):
        user = request.user
        if not user or not user.is_authenticated:
            return "anon"
        return getattr(user, "role", "user")


class VersionKeyBit(bits.KeyBitBase):
    """The `cache_namespaces` of the view, each with its current version."""

    def get_data(self, params, view_instance, view_method, request, args, kwargs):
        namespaces = getattr(view_instance, "cache_namespaces", ())
        if not namespaces:
            return {}
        return current_versions(namespaces, known=remembered_versions(request))


class OriginPathKeyBit(bits.KeyBitBase):
    """`<scheme>://<host><path>` of the request: a cached page holds absolute `next`/`previous`
    links built from them, and one view can answer at two paths (`/api/topics/search/` and
    `/api/work/topics/search/`) or behind two host names."""

    def get_data(self, params, view_instance, view_method, request, args, kwargs):
        return f"{request.scheme}://{request.get_host()}{request.path}"


class VisibilityKeyConstructor(DefaultKeyConstructor):
    """Key = view + method + format + language + role + versions + query params + kwargs +
    scheme, host and path."""

    role = RoleKeyBit()
    versions = VersionKeyBit()
    query_params = bits.QueryParamsKeyBit()
    kwargs = bits.KwargsKeyBit()
    unique_view = bits.UniqueViewIdKeyBit()
    origin_path = OriginPathKeyBit()


class PerUserKeyConstructor(VisibilityKeyConstructor):
    """As `VisibilityKeyConstructor`, plus the user id, for bodies rendered per user."""

    user = bits.UserKeyBit()


# --- per-process copies of versioned bodies ---------------------------------------------------------

LOCAL_CACHE = "local"  # settings.CACHES alias of the per-process LocMemCache
LOCAL_MAX_BYTES = 64 * 1024  # bodies larger than this are not copied into process memory


class LocalFirstCache:
    """The `get`/`set` that drf-extensions' `CacheResponse` uses, over a shared cache with a
    per-process copy (`caches[LOCAL_CACHE]`, Django's LocMemCache: LRU-culled at its
    `MAX_ENTRIES`, thread-safe) read first.

    Only for keys that name an immutable value, i.e. embed the current versions of everything the
    value depends on (`VersionKeyBit`): a process can then never serve a copy that another
    process has invalidated, because a write changes the version and with it the key.
    Values are `(content bytes, status, headers)` triples; those over `LOCAL_MAX_BYTES` of
    content stay in the shared cache only. The local copy lives at most as long as `timeout`.
    """

    def __init__(self, shared: Any, local_alias: str = LOCAL_CACHE) -> None:
        self.shared, self.local_alias = shared, local_alias

    @property
    def local(self) -> Any:
        return caches[self.local_alias]

    def get(self, key: str, default: Any = None) -> Any:
        value = self.local.get(key)
        if value is not None:
            return value
        value = self.shared.get(key, default)
        if value is not None and value is not default and _small(value):
            self.local.set(key, value, self._local_timeout(None))
        return value

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self.shared.set(key, value, timeout)
        if _small(value):
            self.local.set(key, value, self._local_timeout(timeout))

    def _local_timeout(self, timeout: Any) -> Any:
        default = self.local.default_timeout
        return default if timeout is None else min(timeout, default)


def _small(value: Any) -> bool:
    content = value[0] if isinstance(value, tuple) and value else b""
    return isinstance(content, bytes | str) and len(content) <= LOCAL_MAX_BYTES


def local_copies_enabled(shared: Any) -> bool:
    """True when a `local` cache is configured and `shared` is not itself process memory."""
    return LOCAL_CACHE in settings.CACHES and not isinstance(shared, LocMemCache)


class RenderOnceCacheResponse(CacheResponse):
    """drf-extensions' `cache_response` that renders a cache miss once instead of twice.

    Upstream (drf-extensions 0.8.0, `CacheResponse.process_cache_response`) calls
    `response.render()` and then stores `response.rendered_content`, a DRF property that runs the
    renderer again: every miss paid for its JSON twice. This stores `response.content` (what
    `render()` produced) and is otherwise the same method: same key, timeout, `cache_errors` rule,
    `(content bytes, status, {name: (name, value)})` triples and rebuilt `HttpResponse` on a hit.
    Source: drf-extensions 0.8.0 rest_framework_extensions/cache/decorators.py; the double render
    is reported upstream in chibisov/drf-extensions issue #250 and pull request #357.
    """

    def process_cache_response(self, view_instance, view_method, request, args, kwargs):
        key = self.calculate_key(
            view_instance=view_instance,
            view_method=view_method,
            request=request,
            args=args,
            kwargs=kwargs,
        )
        timeout = self.calculate_timeout(view_instance=view_instance)
        response_triple = self.cache.get(key)
        if not response_triple:
            response = view_method(view_instance, request, *args, **kwargs)
            response = view_instance.finalize_response(request, response, *args, **kwargs)
            response.render()
            if not response.status_code >= 400 or self.cache_errors:
                headers = {k: (k, v) for k, v in response.items()}
                self.cache.set(key, (response.content, response.status_code, headers), timeout)
        else:
            content, status, headers = response_triple
            response = HttpResponse(content=content, status=status)
            for k, v in headers.values():
                response[k] = v
        if not hasattr(response, "_closable_objects"):
            response._closable_objects = []
        return response


class VersionedCacheResponse(RenderOnceCacheResponse):
    """drf-extensions' `cache_response` that also serves bodies from a per-process copy
    (`LocalFirstCache`) — but only for a view with `cache_namespaces` whose key function has a
    `VersionKeyBit`, i.e. whose keys change with every write. Otherwise it is `cache_response`.

    Same arguments as `cache_response` (`timeout` seconds, `key_func` object or view attribute
    name, `cache` alias, `cache_errors`). Thread-safe: the decorator is shared by every request,
    so the local-first variant is a second, fixed instance rather than a swapped attribute.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._with_copies = RenderOnceCacheResponse(*args, **kwargs)
        self._with_copies.cache = LocalFirstCache(self.cache)

    def process_cache_response(self, view_instance, view_method, request, args, kwargs):
        if self._versioned(view_instance) and local_copies_enabled(self.cache):
            target = self._with_copies
        else:
            target = super()
        return target.process_cache_response(view_instance, view_method, request, args, kwargs)

    def _versioned(self, view_instance: Any) -> bool:
        key_func = self.key_func
        if isinstance(key_func, str):
            key_func = getattr(view_instance, key_func)
        bits_ = getattr(key_func, "bits", None) or {}
        has_versions = any(isinstance(b, VersionKeyBit) for b in bits_.values())
        return has_versions and bool(getattr(view_instance, "cache_namespaces", ()))


versioned_cache_response = VersionedCacheResponse


class VersionedCacheResponseMixin:
    """`CacheResponseMixin` (list + retrieve cached) with `versioned_cache_response`; set
    `list_cache_key_func` / `object_cache_key_func` (e.g. `VisibilityKeyConstructor()`) and
    `cache_namespaces` on the view."""

    list_cache_timeout = extensions_api_settings.DEFAULT_CACHE_RESPONSE_TIMEOUT  # seconds
    object_cache_timeout = extensions_api_settings.DEFAULT_CACHE_RESPONSE_TIMEOUT
    list_cache_key_func: Any = None
    object_cache_key_func: Any = None

    @versioned_cache_response(key_func="list_cache_key_func", timeout="list_cache_timeout")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @versioned_cache_response(key_func="object_cache_key_func", timeout="object_cache_timeout")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
