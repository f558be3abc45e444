"""Fault: Elasticsearch down (issue 7 §4).

ELASTICSEARCH_URL points at a port nothing listens on (the process-wide client, cached per URL in
`utils.search._client`, is reset around the test). Search answers 503
`{"detail": "Search is temporarily unavailable."}` quickly, while topic writes still succeed: the
index task runs after commit and fails (to be retried / reconciled later) without touching the
response. Transactional, so the on-commit index task really runs (eagerly, in the request).
"""

from __future__ import annotations

import time

import pytest

from apps.work.models import Topic, TopicType
from apps.work.tests.factories import LabelFactory
from tests.faults.procs import free_port, port_open
from tests.faults.worker import eager

SEARCH_DOWN = "Search is temporarily unavailable."
SLOW = 5.0  # seconds: slower counts as a hang


@pytest.fixture
def dead_elasticsearch(settings):
    """Elasticsearch configured at a dead port; the cached client is dropped before and after."""
    from utils import search as es

    port = free_port()
    assert not port_open(port)
    settings.ELASTICSEARCH_URL = f"http://127.0.0.1:{port}"
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.ELASTICSEARCH_TIMEOUT = 2.0
    es._client.cache_clear()
    yield settings.ELASTICSEARCH_URL
    es._client.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_elasticsearch_down_search_503_topic_writes_succeed(
    dead_elasticsearch, client_for, teacher, monkeypatch
):
    from apps.work import search as topic_search

    attempts: list[tuple[list[int], str]] = []  # (ids, exception class) of each index attempt
    real_sync = topic_search.sync_topics

    def recording_sync(*, topic_ids, **kwargs):
        try:
            return real_sync(topic_ids=topic_ids, **kwargs)
        except Exception as exc:
            attempts.append((list(topic_ids), type(exc).__name__))
            raise

    monkeypatch.setattr(topic_search, "sync_topics", recording_sync)

    # the index task runs in the request (on commit), even after a session worker turned eager off
    with eager(True):
        client = client_for(teacher)
        label = LabelFactory(user=teacher)

        for path in ("/api/topics/search/", "/api/work/topics/search/"):
            start = time.monotonic()
            response = client.get(path, {"text": "python"})
            assert response.status_code == 503, response.content[:300]
            assert response.json()["detail"] == SEARCH_DOWN
            assert time.monotonic() - start < SLOW

        body = {
            "subject": "Which keyword defines a function?",
            "type": TopicType.SINGLE,
            "label": label.pk,
            "options": [
                {"key": "A", "text": "func", "is_correct": False},
                {"key": "B", "text": "def", "is_correct": True},
            ],
        }
        start = time.monotonic()
        created = client.post("/api/work/topics/", body, format="json")
        assert created.status_code == 201, created.content[:300]
        topic_id = created.json()["id"]
        updated = client.patch(f"/api/work/topics/{topic_id}/", {"score": 5}, format="json")
        assert updated.status_code == 200, updated.content[:300]
        deleted = client.delete(f"/api/work/topics/{topic_id}/")
        assert deleted.status_code == 204
        assert time.monotonic() - start < 3 * SLOW
        assert Topic.objects.filter(pk=topic_id, is_delete=True, score=5).exists()
        # each write's index task ran after commit and failed on the dead cluster
        assert {ids[0] for ids, _ in attempts} == {topic_id}
        assert len(attempts) >= 3, attempts
