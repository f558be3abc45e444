"""Celery tasks of the community app: page-view flush (beat) and search-index sync."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def flush_page_views() -> int:
    """Move pending page views from Redis into `article.page_view` (beat, every 60 s).

    Returns the number of views moved. Safe to run twice or concurrently (GETDEL).
    """
    from apps.community import pageviews

    return pageviews.flush()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def article_index_task(article_id: int) -> None:
    """Mirror article `article_id` into the search index `article` (upsert if live, else delete).

    With the database search backend (no Elasticsearch configured) there is nothing to mirror.
    """
    from apps.community import search

    search.article_sync_to_index(article_id=article_id)
