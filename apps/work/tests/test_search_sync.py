"""Index sync while Elasticsearch is down: writes succeed, tasks retry, reconcile repairs drift.

Runs on a REAL Elasticsearch; "down" is simulated by pointing the client at a closed port (the
shared test cluster is not stopped). Celery runs eagerly, so retries happen inline.
"""

import pytest
from django.core.management import call_command

from apps.work import search, services, tasks
from apps.work.models import Topic, TopicType
from apps.work.tests import search_fixtures
from apps.work.tests.factories import FillTopicFactory, LabelFactory
from apps.work.tests.search_fixtures import refresh

es_index = search_fixtures.es_index
es_outage = search_fixtures.es_outage


@pytest.fixture
def sync_calls(monkeypatch) -> list[list[int]]:
    """Record every `search.sync_topics` attempt (the real function still runs)."""
    calls: list[list[int]] = []
    real = search.sync_topics

    def spy(*, topic_ids, **kwargs):
        calls.append(sorted(topic_ids))
        return real(topic_ids=topic_ids, **kwargs)

    monkeypatch.setattr(search, "sync_topics", spy)
    return calls


def _fill(label, teacher, n: int) -> Topic:
    return FillTopicFactory(
        label=label,
        user=teacher,
        subject=f"补全：春眠不觉晓，____。（{n}）",
        answer='["处处闻啼鸟"]',
    )


@pytest.mark.django_db
def test_writes_succeed_while_es_is_down_then_reconcile_repairs(
    es_index, es_outage, sync_calls, teacher, django_capture_on_commit_callbacks
):
    label = LabelFactory(user=teacher)
    indexed = [_fill(label, teacher, n) for n in range(3)]
    search.sync_topics(topic_ids=[t.pk for t in indexed])  # spy records this one too
    sync_calls.clear()

    es_outage.down()  # --- Elasticsearch unreachable from here on
    with django_capture_on_commit_callbacks(execute=True):
        created = [
            services.topic_create(
                user=teacher,
                subject=f"补全：夜来风雨声，____。（新{n}）",
                type=TopicType.FILL,
                label=label,
                answer='["花落知多少"]',
            )
            for n in range(2)
        ]
    with django_capture_on_commit_callbacks(execute=True):
        services.topic_update(topic=indexed[0], data={"subject": "补全：春眠不觉晓，____。（改）"})
    with django_capture_on_commit_callbacks(execute=True):
        services.topic_delete(topic=indexed[1])

    assert Topic.objects.filter(is_delete=False).count() == 4  # every write is in the DB
    attempts = tasks.topic_index_task.max_retries + 1
    assert len(sync_calls) == 4 * attempts  # each of the 4 tasks tried, retried, gave up
    assert sync_calls[:attempts] == [[created[0].pk]] * attempts

    es_outage.up()  # --- back
    before = search.reconcile(fix=True, refresh=True)
    assert (before.missing, before.stale, before.extra) == (2, 1, 1)
    after = search.reconcile(fix=False)
    assert (after.missing, after.stale, after.extra) == (0, 0, 0)
    assert after.db == after.indexed == 4
    refresh(es_index)
    found = search.search_topics(user=teacher, text="夜来风雨声", offset=0, limit=10)
    assert {hit.id for hit in found.hits} == {t.pk for t in created}


@pytest.mark.django_db
def test_reconcile_task_and_command_report_and_fix(es_index, teacher, capsys):
    label = LabelFactory(user=teacher)
    topics = [_fill(label, teacher, n) for n in range(5)]
    result = tasks.topic_reconcile_task.delay().get()
    assert (result["missing"], result["stale"], result["extra"]) == (5, 0, 0)
    call_command("search_index", "--reconcile", "--no-progress")
    out = capsys.readouterr().out
    assert "found missing=0 stale=0 extra=0" in out
    Topic.objects.filter(pk=topics[0].pk).update(is_delete=True)
    call_command("search_index", "--reconcile", "--dry-run", "--no-progress")
    assert "found missing=0 stale=0 extra=1" in capsys.readouterr().out
    call_command("search_index", "--reconcile", "--no-progress")
    assert "fixed missing=0 stale=0 extra=1" in capsys.readouterr().out


@pytest.mark.django_db
def test_tasks_are_idempotent(es_index, teacher):
    topic = _fill(LabelFactory(user=teacher), teacher, 1)
    first = tasks.topic_index_task.delay(topic.pk).get()
    second = tasks.topic_index_task.delay(topic.pk).get()
    assert first["indexed"] == second["indexed"] == 1
    refresh(es_index)
    assert es_index.count(index=search_fixtures.es.alias_name("topic"))["count"] == 1
    label_result = tasks.label_reindex_task.delay(topic.label_id).get()
    assert label_result["indexed"] == 1


@pytest.mark.django_db
def test_tasks_do_nothing_on_the_database_backend(settings, teacher, sync_calls):
    settings.SEARCH_BACKEND = "database"
    settings.ELASTICSEARCH_URL = ""
    topic = _fill(LabelFactory(user=teacher), teacher, 1)
    assert tasks.topic_index_task.delay(topic.pk).get() == {
        "indexed": 0,
        "deleted": 0,
        "conflicts": 0,
        "not_found": 0,
    }
    assert tasks.topic_rebuild_task.delay().get() is None
    assert tasks.topic_reconcile_task.delay().get() is None
