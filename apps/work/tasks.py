"""Celery tasks of the question bank: mirror topics into Elasticsearch (API.md §2.4 "Index sync").

Placeholder bodies written by the work-API helper; the search helper owns and completes this module
(`apps.work.search` holds the logic). Tasks take ids, are safe to run twice, and retry while ES is down.
"""

from celery import shared_task

from utils.exceptions import SearchUnavailable


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, max_retries=5)
def topic_index_task(topic_id: int) -> None:
    """Mirror topic `topic_id` into the `topic` alias: upsert if live, else delete. Idempotent."""
    from apps.work import search

    search.sync_topics(topic_ids=[topic_id])


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, max_retries=5)
def topics_index_task(topic_ids: list[int]) -> None:
    """Mirror many topics (an import) in one bulk request. Idempotent."""
    from apps.work import search

    search.sync_topics(topic_ids=list(topic_ids))


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, max_retries=5)
def label_reindex_task(label_id: int) -> None:
    """Refresh `label_name`/`label_is_exam` of every document of label `label_id`. Idempotent."""
    from apps.work import search

    search.sync_label(label_id=label_id)
