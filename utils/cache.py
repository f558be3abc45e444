"""Response-cache keys for drf-extensions that cannot leak across roles or serve stale data.

Every key holds (a) the caller's visibility bucket (`role`, API.md §1.7), optionally the user id,
and (b) a per-namespace "last updated" version that `bump()` changes on every write, so a write
invalidates all cached bodies of that namespace at once (old entries simply expire).
"""

import logging
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import caches
from rest_framework_extensions.key_constructor import bits
from rest_framework_extensions.key_constructor.constructors import DefaultKeyConstructor

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


def get_many_and_count(
    keys: list[str], counters: list[tuple[str, str, int]]
) -> tuple[dict[str, Any], list[tuple[int, int]] | None]:
    """`get_many(keys)` on the `default` cache plus, in the same Redis round trip, the throttle
    counters `counters` (`(current key, previous key, ttl)`, see `utils.throttling.counters_for`):
    `INCR`+`EXPIRE` of the current key, `GET` of the previous one.

    Returns `(found, counts)`: `counts` is `[(current, previous)]` in `counters` order, or None when
    nothing was counted (no counters, not a django-redis cache, or Redis failed: then `found` comes
    from a plain `get_many`, which treats an outage as misses).
    """
    cache = _version_cache()
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    if not counters or get_client is None:
        return (cache.get_many(keys) if keys else {}), None
    try:
        pipe = get_client(write=True).pipeline(transaction=False)
        made = [cache.make_key(k) for k in keys]
        if made:
            pipe.mget(made)
        for current, previous, ttl in counters:
            pipe.incr(cache.make_key(current))
            pipe.expire(cache.make_key(current), ttl)
            pipe.get(cache.make_key(previous))
        replies = pipe.execute()
    except Exception:
        logger.warning("cache: batched read failed, reading without counting", exc_info=True)
        return (cache.get_many(keys) if keys else {}), None
    found = {}
    if made:
        values = replies.pop(0)
        found = {
            k: cache.client.decode(v) for k, v in zip(keys, values, strict=True) if v is not None
        }
    counts = [(int(replies[i]), int(replies[i + 2] or 0)) for i in range(0, len(replies), 3)]
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


class VisibilityKeyConstructor(DefaultKeyConstructor):
    """Key = view + method + format + language + role + versions + query params + kwargs."""

    role = RoleKeyBit()
    versions = VersionKeyBit()
    query_params = bits.QueryParamsKeyBit()
    kwargs = bits.KwargsKeyBit()
    unique_view = bits.UniqueViewIdKeyBit()


class PerUserKeyConstructor(VisibilityKeyConstructor):
    """As `VisibilityKeyConstructor`, plus the user id, for bodies rendered per user."""

    user = bits.UserKeyBit()
