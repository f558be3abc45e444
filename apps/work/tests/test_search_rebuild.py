"""Zero-downtime rebuild of the `topic` index on a REAL Elasticsearch: readers of the alias never
see an empty or missing index, writes made during the load are caught up, old indices go away."""

import threading

import pytest
from django.core.management import call_command

from apps.work import search
from apps.work.models import Topic
from apps.work.tests import search_fixtures
from apps.work.tests.factories import JudgeTopicFactory, LabelFactory
from apps.work.tests.search_fixtures import refresh
from utils import search as es

es_index = search_fixtures.es_index
TOPICS = 300


@pytest.fixture
def indexed(es_index, teacher) -> list[Topic]:
    label = LabelFactory(user=teacher)
    topics = JudgeTopicFactory.create_batch(TOPICS, label=label, user=teacher, subject="判断：明月")
    search.sync_topics(topic_ids=[t.pk for t in topics])
    refresh(es_index)
    return topics


class Reader(threading.Thread):
    """Counts the alias's documents in a loop (plain ES calls: no DB in this thread)."""

    def __init__(self, client, alias: str) -> None:
        super().__init__(daemon=True)
        self.client, self.alias = client, alias
        self.counts: list[int] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and len(self.counts) < 100_000:
            try:
                response = self.client.search(
                    index=self.alias,
                    size=0,
                    track_total_hits=True,
                    query={"match": {"subject": "明月"}},
                )
                self.counts.append(response["hits"]["total"]["value"])
            except Exception as exc:
                self.errors.append(repr(exc))


@pytest.mark.django_db
def test_rebuild_swaps_alias_without_an_empty_window(es_index, indexed):
    alias = es.alias_name("topic")
    before = es.alias_indices(es_index, "topic")
    reader = Reader(es_index, alias)
    changed = indexed[0]

    done: list[bool] = []

    def write_during_load(_n: int) -> None:
        if not done:  # the first chunk is already read from the DB and sent
            done.append(True)
            Topic.objects.filter(pk=changed.pk).update(subject="判断：明月（改）")
            Topic.objects.get(pk=changed.pk).save()  # bump update_time
            search.sync_topics(topic_ids=[changed.pk])  # lands in the OLD index

    reader.start()
    try:
        result = search.rebuild(progress=write_during_load, chunk_size=100)
    finally:
        reader.stop.set()
        reader.join(timeout=30)
    assert reader.errors == []
    assert len(reader.counts) > 0
    assert min(reader.counts) == TOPICS  # never 0, never partial
    after = es.alias_indices(es_index, "topic")
    assert after == [result.index] != before
    assert result.old == before
    assert not es_index.indices.exists(index=before[0])
    assert result.count == TOPICS
    assert result.caught_up >= 1
    refresh(es_index)
    doc = es_index.get(index=alias, id=changed.pk)["_source"]
    assert doc["subject"] == "判断：明月（改）"


@pytest.mark.django_db
def test_rebuild_replaces_a_squatting_concrete_index(es_index, teacher):
    alias = es.alias_name("topic")
    es_index.indices.create(index=alias)  # e.g. auto-created by a write without the alias
    topic = JudgeTopicFactory(label=LabelFactory(user=teacher), user=teacher)
    result = search.rebuild()
    assert es.alias_indices(es_index, "topic") == [result.index]
    assert es_index.count(index=alias)["count"] == 1
    assert search.search_topics(user=teacher, text="", offset=0, limit=5).hits[0].id == topic.pk


@pytest.mark.django_db
def test_search_index_rebuild_command(es_index, indexed, capsys):
    call_command("search_index", "--rebuild", "--no-progress")
    out = capsys.readouterr().out
    assert f"{TOPICS} documents" in out
    assert "alias swapped" in out
    (index,) = es.alias_indices(es_index, "topic")
    assert index in out
