"""Topic list pagination with a cached `COUNT(*)` (issue 7: the count is most of an uncached page).

The count of a topic list depends only on the list's query and on the question bank's data, so it
is cached in the `default` cache under a digest of what determines the query — the caller's
visibility view (`apps.work.visibility.view_of`) and the filter parameters (`TopicFilter`) — plus
the current `work:topic`/`work:label` versions (`utils.cache`). Every write
of topics or labels bumps those versions (`services._bump_caches`, at once and after commit), so a
cached count is never served after a write, exactly as for the cached response bodies. Pages,
page sizes and parameters that are not filters (e.g. a cache-busting `_nc`) share one count.
"""

from __future__ import annotations

import hashlib
from functools import cached_property, partial
from typing import Any

from django.core.cache import caches
from django.core.paginator import Paginator

from apps.work.filters import TopicFilter
from apps.work.visibility import view_of
from utils import cache as response_cache
from utils.drf import PageNumberPagination

COUNT_KEY = "work:count:{digest}"
COUNT_TIMEOUT = 3600  # seconds; entries of old versions are never read again


class VersionedCountPaginator(Paginator):
    """A `Paginator` whose `count` is cached per (`identity`, `versions`).

    `identity`: a repr-able value that determines the list's query (same identity → same rows);
    `versions`: `{namespace: version}` of the data the list reads. Source: `default` cache, else
    one `COUNT(*)` query (then stored). Cache down: the query answers (django-redis ignores errors).
    """

    def __init__(
        self, object_list: Any, per_page: int, *, identity: Any, versions: dict, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.identity, self.versions = identity, versions

    @cached_property
    def count(self) -> int:
        source = repr((self.object_list.db, self.identity, sorted(self.versions.items())))
        key = COUNT_KEY.format(digest=hashlib.sha256(source.encode()).hexdigest())
        cache = caches["default"]
        count = cache.get(key)
        if count is None:
            count = self.object_list.count()
            cache.set(key, count, COUNT_TIMEOUT)
        return count


class TopicPagination(PageNumberPagination):
    """`utils.drf.PageNumberPagination` (`?page&size`) with the versioned cached count, for the
    topic list (`TopicViewSet`, whose queryset is `selectors.topic_list_visible_to(user)` filtered
    by `TopicFilter`: the identity is the caller's view + the filter parameters as sent).

    The view's `cache_namespaces` give the versions (read with the caller's auth state when the
    request authenticated, see `utils.cache.remember_versions`).
    """

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        namespaces = getattr(view, "cache_namespaces", ())
        versions = response_cache.current_versions(
            namespaces, known=response_cache.remembered_versions(request)
        )
        params = request.query_params
        identity = (
            "topics",
            view_of(request.user),
            tuple(
                (name, params.getlist(name)) for name in TopicFilter.base_filters if name in params
            ),
        )
        self.django_paginator_class = partial(
            VersionedCountPaginator, identity=identity, versions=versions
        )
        return super().paginate_queryset(queryset, request, view)
