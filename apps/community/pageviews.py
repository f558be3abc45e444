"""Article page views: exact counters in Redis, flushed to `article.page_view` by Celery beat.

Redis configured (`REDIS_URL`): a detail GET does `INCR <prefix>:community:article:page_view:<id>`
on the raw django_redis client of cache alias `default`; the response shows
`article.page_view + pending`. `flush()` moves each pending count to the row with `GETDEL`
(atomic: a concurrent `INCR` lands either before — and is flushed now — or after — and stays
for the next flush); if the row update fails the count is put back with `INCRBY`, so nothing is
lost or counted twice. Between the `GETDEL` and the row's commit (milliseconds) a reader may see
the count short by the amount in flight; the stored total is exact.

No Redis (embedded default), or Redis failing: `UPDATE article SET page_view = page_view + 1`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from redis.exceptions import RedisError

from apps.community.models import Article

logger = logging.getLogger(__name__)

KEY = "{prefix}:community:article:page_view:{article_id}"


def _client():
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _key(article_id: int | str) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "stsys"
    return KEY.format(prefix=prefix, article_id=article_id)


def uses_redis() -> bool:
    """True when page views are counted in Redis (REDIS_URL set)."""
    return bool(settings.REDIS_URL)


def _db_increment(article_id: int) -> None:
    Article.objects.filter(pk=article_id).update(page_view=F("page_view") + 1)


def increment(article_id: int) -> int:
    """Count one view of article `article_id`; return the views not yet in the row (≥ 0).

    Redis down → counted in the row instead (returns 0), logged as a warning.
    """
    if uses_redis():
        try:
            return int(_client().incr(_key(article_id)))
        except (RedisError, OSError) as exc:  # Redis down: count in the row instead
            logger.warning(
                "page_view INCR failed for article %s, using the DB: %s", article_id, exc
            )
    _db_increment(article_id)
    return 0


def pending(article_ids: Iterable[int]) -> dict[int, int]:
    """`{article_id: views still in Redis}` for the ids (one MGET); `{}` without Redis."""
    ids = list(article_ids)
    if not ids or not uses_redis():
        return {}
    try:
        values = _client().mget([_key(i) for i in ids])
    except (RedisError, OSError) as exc:  # a missing figure must not fail a read
        logger.warning("page_view MGET failed: %s", exc)
        return {}
    return {i: int(v) for i, v in zip(ids, values, strict=True) if v}


def flush(*, batch: int = 500) -> int:
    """Move every pending count from Redis into `article.page_view`; return the views moved.

    Safe to run concurrently and twice (GETDEL hands each count to exactly one flusher).
    """
    if not uses_redis():
        return 0
    client = _client()
    pattern = _key("*")
    moved = 0
    for raw_key in client.scan_iter(match=pattern, count=batch):
        key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
        article_id = key.rsplit(":", 1)[-1]
        if not article_id.isdigit():
            continue
        value = client.getdel(key)
        count = int(value or 0)
        if count <= 0:
            continue
        try:
            with transaction.atomic():
                Article.objects.filter(pk=int(article_id)).update(page_view=F("page_view") + count)
        except Exception:
            client.incrby(key, count)  # put it back for the next flush
            logger.exception("page_view flush failed for article %s (%d kept)", article_id, count)
            raise
        moved += count
    if moved:
        logger.info("page_view flush moved %d views", moved)
    return moved
