"""Response-cache keys for drf-extensions that cannot leak across roles or serve stale data.

Every key holds (a) the caller's visibility bucket (`role`, API.md §1.7), optionally the user id,
and (b) a per-namespace "last updated" version that `bump()` changes on every write, so a write
invalidates all cached bodies of that namespace at once (old entries simply expire).
"""

import time

from django.core.cache import caches
from rest_framework_extensions.key_constructor import bits
from rest_framework_extensions.key_constructor.constructors import DefaultKeyConstructor

VERSION_KEY = "lastupdated:{namespace}"


def _version_cache():
    return caches["default"]


def current_version(namespace: str) -> str:
    """Return the namespace's last-updated marker (a nanosecond timestamp string)."""
    cache = _version_cache()
    key = VERSION_KEY.format(namespace=namespace)
    value = cache.get(key)
    if value is None:
        value = str(time.time_ns())
        if not cache.add(key, value, timeout=None):
            value = cache.get(key) or value
    return value


def bump(*namespaces: str) -> None:
    """Mark the namespaces as changed now; every cached response keyed on them is bypassed."""
    cache = _version_cache()
    stamp = str(time.time_ns())
    cache.set_many({VERSION_KEY.format(namespace=ns): stamp for ns in namespaces}, timeout=None)


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
        return {ns: current_version(ns) for ns in namespaces}


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
