"""Celery tasks of the question bank: mirror topics into Elasticsearch (API.md §2.4 "Index sync").

The logic lives in `apps.work.search`. Tasks take ids (never model instances), are idempotent
(documents carry external versions, deletes of absent documents are fine) and retry with jittered
exponential backoff while Elasticsearch is unreachable (`utils.search.TASK_RETRY`). Syncs wait until their writes are
searchable (`refresh="wait_for"`); `sync_topics` then drops the cached search bodies. With the
database search backend (no ELASTICSEARCH_URL) they do nothing. Queue: `search`
(settings.CELERY_TASK_ROUTES).
"""

from typing import Any

from celery import shared_task

from utils.search import TASK_RETRY as RETRY  # jittered exponential backoff while ES is down


@shared_task(**RETRY)
def topic_index_task(topic_id: int) -> dict[str, int]:
    """Mirror topic `topic_id` into the `topic` alias: upsert if live, else delete.

    Returns the `SyncResult` counts (`indexed`, `deleted`, `conflicts`, `not_found`).
    """
    from apps.work import search

    return vars(search.sync_topics(topic_ids=[topic_id], refresh="wait_for"))


@shared_task(**RETRY)
def topics_index_task(topic_ids: list[int]) -> dict[str, int]:
    """Mirror many topics (an import) in bulk requests. Returns the `SyncResult` counts."""
    from apps.work import search

    return vars(search.sync_topics(topic_ids=list(topic_ids), refresh="wait_for"))


@shared_task(**RETRY)
def label_reindex_task(label_id: int) -> dict[str, int]:
    """Refresh `label_name`/`label_is_exam` of every document of label `label_id`."""
    from apps.work import search

    return vars(search.sync_label(label_id=label_id, refresh="wait_for"))


@shared_task(**RETRY)
def topic_rebuild_task() -> dict[str, Any] | None:
    """Rebuild the index from the DB with an atomic alias swap (`POST /api/work/topics/reindex/`).

    Returns `{"index", "count", "old", "caught_up", "seconds"}`; None with the database backend.
    """
    from apps.work import search

    if not search.use_elasticsearch():
        return None
    return vars(search.rebuild())


@shared_task(**RETRY)
def topic_reconcile_task() -> dict[str, Any] | None:
    """Repair drift between DB and index (missing / stale / extra documents); periodic (beat).

    Returns the `ReconcileResult` counts; None with the database backend.
    """
    from apps.work import search

    if not search.use_elasticsearch():
        return None
    return vars(search.reconcile(fix=True))
