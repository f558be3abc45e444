"""Celery tasks of the community app: page-view flush (beat) and the `article` search index
(sync on commit, rebuild, hourly reconcile; queue `search`)."""

import logging
from typing import Any

from celery import shared_task

from utils import search as search_es

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def flush_page_views() -> int:
    """Move pending page views from Redis into `article.page_view` (beat, every 60 s).

    Returns the number of views moved. Safe to run twice or concurrently (GETDEL).
    """
    from apps.community import pageviews

    return pageviews.flush()


@shared_task(**search_es.TASK_RETRY)
def article_index_task(article_id: int) -> dict[str, int]:
    """Mirror article `article_id` into the search index `article` (upsert if live, else delete).

    Queued on commit by every article write; idempotent (external versions); retried with
    backoff while Elasticsearch is unreachable. Returns the `SyncResult` counts (`indexed`,
    `deleted`, `conflicts`, `not_found`), all 0 with the database backend.
    """
    from apps.community import search

    return vars(search.article_sync_to_index(article_id=article_id))


@shared_task(**search_es.TASK_RETRY)
def article_rebuild_task() -> dict[str, Any] | None:
    """Rebuild the `article` index from the DB with an atomic alias swap.

    Returns `{"index", "count", "old", "caught_up", "seconds"}`; None with the database backend.
    """
    from apps.community import search

    if not search.use_elasticsearch():
        return None
    return vars(search.rebuild())


@shared_task(**search_es.TASK_RETRY)
def article_reconcile_task() -> dict[str, Any] | None:
    """Repair drift between live articles and the `article` index (missing / stale / extra
    documents); hourly (beat). Returns the `ReconcileResult` counts; None with the DB backend."""
    from apps.community import search

    if not search.use_elasticsearch():
        return None
    return vars(search.reconcile(fix=True))
