"""Article page views (API.md §2.5): exact under concurrency, Redis INCR + beat flush, or the
embedded default's `F()` update."""

import threading

import pytest
from django.db import connections

from apps.community import pageviews
from apps.community.models import Article
from apps.community.tasks import flush_page_views
from apps.community.tests.factories import ArticleFactory
from celery_tasks.beat import BEAT_SCHEDULE

READERS = 50


def _concurrent_reads(client_for, users, article_id: int) -> list[int]:
    """Each thread: its own DB connection and client, one detail GET; returns the page_views."""
    barrier = threading.Barrier(len(users))
    seen: list[int] = []
    errors: list[BaseException] = []
    clients = [client_for(u) for u in users]

    def read(client) -> None:
        try:
            barrier.wait(timeout=30)
            resp = client.get(f"/api/community/articles/{article_id}/")
            assert resp.status_code == 200, resp.content
            seen.append(resp.json()["page_view"])
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    return seen


def _readers(count: int):
    from apps.users.tests.factories import UserFactory

    return [UserFactory() for _ in range(count)]


def test_beat_flushes_every_minute():
    entry = BEAT_SCHEDULE["community-flush-page-views"]
    assert entry == {"task": "apps.community.tasks.flush_page_views", "schedule": 60.0}


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_readers_with_redis_then_flush(mariadb, redis_required, client_for):
    article = ArticleFactory(page_view=7)
    seen = _concurrent_reads(client_for, _readers(READERS), article.pk)

    article.refresh_from_db()
    assert article.page_view == 7  # still pending in Redis
    assert sorted(seen)[-1] == 7 + READERS  # the last INCR saw every earlier one
    assert len(set(seen)) == READERS  # INCR hands every reader its own number
    assert pageviews.pending([article.pk]) == {article.pk: READERS}

    assert flush_page_views.delay().get(timeout=10) == READERS
    article.refresh_from_db()
    assert article.page_view == 7 + READERS
    assert pageviews.pending([article.pk]) == {}
    assert flush_page_views.delay().get(timeout=10) == 0  # a second flush moves nothing


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_readers_without_redis_update_the_row(mariadb, client_for, settings):
    settings.REDIS_URL = ""  # embedded default: F("page_view") + 1
    article = ArticleFactory()
    _concurrent_reads(client_for, _readers(READERS), article.pk)
    article.refresh_from_db()
    assert article.page_view == READERS
    assert pageviews.flush() == 0


@pytest.mark.django_db
def test_flush_keeps_increments_that_arrive_during_a_flush(redis_required):
    a, b = ArticleFactory(), ArticleFactory()
    for _ in range(3):
        pageviews.increment(a.pk)
    pageviews.increment(b.pk)
    assert pageviews.flush() == 4
    pageviews.increment(a.pk)  # after the flush: pending again, counted once
    assert Article.objects.get(pk=a.pk).page_view == 3
    assert pageviews.flush() == 1
    assert Article.objects.get(pk=a.pk).page_view == 4
    assert Article.objects.get(pk=b.pk).page_view == 1


@pytest.mark.django_db
def test_failed_row_update_puts_the_count_back(redis_required, monkeypatch):
    article = ArticleFactory()
    pageviews.increment(article.pk)
    pageviews.increment(article.pk)

    def boom(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Article.objects, "filter", boom)
    with pytest.raises(RuntimeError):
        pageviews.flush()
    monkeypatch.undo()
    assert pageviews.pending([article.pk]) == {article.pk: 2}
    assert pageviews.flush() == 2
    assert Article.objects.get(pk=article.pk).page_view == 2


@pytest.mark.django_db
def test_redis_down_falls_back_to_the_row(settings, client_for, user):
    settings.REDIS_URL = "redis://127.0.0.1:1"  # configured but unreachable
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    article = ArticleFactory()
    client = client_for(user)
    assert [
        client.get(f"/api/community/articles/{article.pk}/").json()["page_view"] for _ in "ab"
    ] == [1, 2]
    article.refresh_from_db()
    assert article.page_view == 2
