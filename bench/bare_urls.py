"""Bench-only URLconf (selected by `bench/settings.py` when `BENCH_BARE_URLS=1`).

`/bench/bare/`: a bare Django JSON view (no DRF, no auth, no DB, no cache) — the ceiling that
`bench/load.py` divides every scenario's throughput by. Then every URL of the project, unchanged.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    """`GET /bench/bare/` → 200 `{"ok": true}`; runs the project's middleware and nothing else."""
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare/", bare), *project_urlpatterns]
