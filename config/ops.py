"""Operations endpoints outside /api/: liveness `/healthz` and readiness `/readyz` (API.md §2.1)."""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods

logger = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0  # seconds for all checks together (they run in parallel)


@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok"}`: the process answers; no dependency is called."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # the check runs in a pool thread: do not leak its connection


def _check_cache() -> None:
    if settings.REDIS_URL:
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
    else:
        from django.core.cache import cache

        cache.set("readyz", "1", 5)


def _check_search() -> None:
    if not settings.ELASTICSEARCH_URL:
        return
    from elasticsearch import Elasticsearch

    client = Elasticsearch(settings.ELASTICSEARCH_URL, request_timeout=CHECK_TIMEOUT)
    # cluster health, not ping(): the integ-test distribution answers `GET /` with 405
    health = client.cluster.health(timeout=f"{int(CHECK_TIMEOUT)}s")
    if health.get("status") not in ("green", "yellow"):
        raise ConnectionError(f"elasticsearch status {health.get('status')}")


def _check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from celery_tasks.main import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)


CHECKS: dict[str, tuple[Callable[[], None], bool]] = {
    "database": (_check_database, True),
    "cache": (_check_cache, True),
    "search": (_check_search, False),
    "broker": (_check_broker, False),
}


@require_http_methods(["GET", "HEAD"])
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: `{"status": "ok"|"degraded"|"fail", "checks": {name: "ok"|"fail"}}`.

    The checks run in parallel, each in a thread of its own for this call, and all of them get
    `CHECK_TIMEOUT` seconds together; one not done by then is `fail` (a hung dependency cannot
    slow the answer or take the threads of later calls). database and cache are critical (→ 503
    `fail`); search and broker are not (→ 200 `degraded`). No internal details are returned;
    failures are logged.
    """
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
    try:
        futures = {name: pool.submit(fn) for name, (fn, _critical) in CHECKS.items()}
        wait(futures.values(), timeout=CHECK_TIMEOUT)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    checks: dict[str, str] = {}
    for name, future in futures.items():
        error = future.exception() if future.done() else TimeoutError()
        if error is None:
            checks[name] = "ok"
        else:
            logger.warning("readyz check %s failed: %s", name, type(error).__name__)
            checks[name] = "fail"
    if any(checks[name] == "fail" for name, (_fn, critical) in CHECKS.items() if critical):
        return JsonResponse({"status": "fail", "checks": checks}, status=503)
    status = "degraded" if "fail" in checks.values() else "ok"
    return JsonResponse({"status": status, "checks": checks})
