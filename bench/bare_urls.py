"""Bench-only URLconf (selected by `bench/settings.py` when `BENCH_BARE_URLS=1`).

`/bench/bare/`: a bare Django JSON view (no DRF, no auth, no DB, no cache) — the ceiling that
`bench/load.py` divides every scenario's throughput by. `/bench/reference/area/<kind>/`: the
province list served the way issue 7 calibrates its 0.5× target, with the libraries as they come
(for comparison only, never part of the product). Then every URL of the project, unchanged.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework_extensions.cache.decorators import cache_response
from rest_framework_simplejwt.authentication import (
    JWTAuthentication,
    JWTStatelessUserAuthentication,
)

from apps.users import selectors
from apps.users.serializers import AreaSerializer
from config.urls import urlpatterns as project_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    """`GET /bench/bare/` → 200 `{"ok": true}`; runs the project's middleware and nothing else."""
    return JsonResponse({"ok": True})


class _ReferenceAreaList(ListAPIView):
    """The province list (same body as `/api/users/area/`) with drf-extensions' stock
    `cache_response` (default key: method, format, language; body in the Redis `default` cache,
    one GET per request) and no throttles, as DRF comes."""

    permission_classes = (IsAuthenticated,)
    throttle_classes = ()
    pagination_class = None
    serializer_class = AreaSerializer

    def get_queryset(self):
        return selectors.area_provinces()

    @cache_response(timeout=3600)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StatelessReferenceAreaList(_ReferenceAreaList):
    """simplejwt's stateless check: signature and expiry only, no user row, no deactivation check
    (issue 7: "a stateless token check reaches 0.5×")."""

    authentication_classes = (JWTStatelessUserAuthentication,)


class StockReferenceAreaList(_ReferenceAreaList):
    """simplejwt's `JWTAuthentication`: loads the user row on every request (issue 7: "simplejwt +
    drf-extensions as they come reach about 0.27×")."""

    authentication_classes = (JWTAuthentication,)


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/reference/area/stateless/", StatelessReferenceAreaList.as_view()),
    path("bench/reference/area/stock/", StockReferenceAreaList.as_view()),
    *project_urlpatterns,
]
