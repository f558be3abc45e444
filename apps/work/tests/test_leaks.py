"""THE LEAK MATRIX (API.md §2.4 "Student view", §1.7 caching).

role (anon, plain user, student, other teacher, owner teacher, staff) × endpoint (list, detail,
exam detail, search, export) × cache (cold; warmed first by a teacher, then read twice by the role).
Students and plain users must never receive an `answer` key, an `is_correct` key or an exam topic;
teachers see everything. Plus: a write is never served stale from a warm cache.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.work.models import Topic
from apps.work.tests.factories import (
    EssayTopicFactory,
    ExamLabelFactory,
    FillTopicFactory,
    JudgeTopicFactory,
    LabelFactory,
    MultipleTopicFactory,
    SingleTopicFactory,
)

TOPICS = "/api/work/topics/"
ROLES = ("anon", "user", "student", "other_teacher", "teacher", "staff")
STUDENT_VIEW = {"user", "student"}
ENDPOINTS = ("list", "detail", "exam_detail", "search", "export")


@pytest.fixture
def bank(teacher):
    """Live topics of every type in a normal label, two in an exam label, one deleted."""
    label = LabelFactory(user=teacher, name="normal")
    exam = ExamLabelFactory(user=teacher, name="期末考试")
    normal = [
        f(label=label, user=teacher)
        for f in (
            SingleTopicFactory,
            MultipleTopicFactory,
            JudgeTopicFactory,
            FillTopicFactory,
            EssayTopicFactory,
        )
    ]
    exam_topics = [
        SingleTopicFactory(label=exam, user=teacher, subject="EXAM single"),
        EssayTopicFactory(label=exam, user=teacher, subject="EXAM essay"),
    ]
    deleted = EssayTopicFactory(label=label, user=teacher, subject="DELETED", is_delete=True)
    return {"normal": normal, "exam": exam_topics, "deleted": deleted}


def keys_in(obj) -> set[str]:
    """Every dict key anywhere inside a JSON value."""
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in keys_in(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in keys_in(v)}
    return set()


def call(client, endpoint: str, bank):
    if endpoint == "list":
        return client.get(TOPICS, {"size": 100})
    if endpoint == "detail":
        return client.get(f"{TOPICS}{bank['normal'][0].pk}/")  # a single-choice topic
    if endpoint == "exam_detail":
        return client.get(f"{TOPICS}{bank['exam'][0].pk}/")
    if endpoint == "search":
        return client.get("/api/topics/search/", {"text": "EXAM", "limit": 50})
    return client.get(f"{TOPICS}export/", {"file_format": "jsonl"})


def check(who: str, endpoint: str, response, bank) -> None:
    live_ids = {t.pk for t in bank["normal"]}
    exam_ids = {t.pk for t in bank["exam"]}
    if who == "anon":
        assert response.status_code == 401
        return
    student = who in STUDENT_VIEW
    if endpoint == "export":
        if student:
            assert response.status_code == 403
            return
        assert response.status_code == 200
        bodies = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
        assert {b["subject"] for b in bodies} >= {"EXAM single", "EXAM essay"}
        assert "DELETED" not in {b["subject"] for b in bodies}
        assert all("answer" in b for b in bodies)
        return
    if endpoint == "exam_detail" and student:
        assert response.status_code == 404
        assert keys_in(response.json()) == {"detail"}
        return
    assert response.status_code == 200
    body = response.json()
    forbidden = keys_in(body) & {"answer", "is_correct"}
    if student:
        assert forbidden == set(), f"{who} got {forbidden} from {endpoint}"
        assert "EXAM" not in json.dumps(body, ensure_ascii=False)
    else:
        assert forbidden == {"answer", "is_correct"}
    if endpoint in ("list", "search"):
        ids = {r["id"] for r in body["results"]}
        assert bank["deleted"].pk not in ids
        assert ids == (live_ids if student else live_ids | exam_ids)
        if endpoint == "list":
            assert body["count"] == len(ids)


@pytest.mark.parametrize("cache", ["cold", "warm"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", ROLES)
@pytest.mark.django_db
def test_leak_matrix(request, client_for, bank, fake_search, teacher, who, endpoint, cache):
    client = client_for(None if who == "anon" else request.getfixturevalue(who))
    if cache == "warm":
        warm = call(client_for(teacher), endpoint, bank)  # a teacher body is cached first
        assert warm.status_code in (200, 404)
        check(who, endpoint, call(client, endpoint, bank), bank)  # the role's own body cached
    check(who, endpoint, call(client, endpoint, bank), bank)


@pytest.mark.django_db
def test_warm_reads_come_from_the_cache(client_for, bank, student):
    client = client_for(student)
    assert client.get(TOPICS).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(TOPICS).status_code == 200
    assert not [q for q in ctx.captured_queries if '"topic"' in q["sql"] or "`topic`" in q["sql"]]


@pytest.mark.django_db
def test_edited_answer_is_never_served_stale(client_for, teacher, bank):
    client = client_for(teacher)
    essay = bank["normal"][4]
    url = f"{TOPICS}{essay.pk}/"
    assert client.get(url).json()["answer"] == "Use a generator expression."
    assert client.get(TOPICS, {"size": 100}).status_code == 200  # both warm now
    response = client.patch(url, {"answer": "Use sum() over a generator."}, format="json")
    assert response.status_code == 200
    assert client.get(url).json()["answer"] == "Use sum() over a generator."
    listed = {r["id"]: r for r in client.get(TOPICS, {"size": 100}).json()["results"]}
    assert listed[essay.pk]["answer"] == "Use sum() over a generator."


@pytest.mark.django_db
def test_label_turned_exam_disappears_for_students_at_once(client_for, teacher, student, bank):
    student_client = client_for(student)
    label = bank["normal"][0].label
    before = student_client.get(TOPICS, {"size": 100}).json()["count"]
    assert before == len(bank["normal"])
    detail = f"{TOPICS}{bank['normal'][0].pk}/"
    assert student_client.get(detail).status_code == 200
    response = client_for(teacher).patch(
        f"/api/work/labels/{label.pk}/", {"is_exam": True}, format="json"
    )
    assert response.status_code == 200
    assert student_client.get(TOPICS, {"size": 100}).json()["count"] == 0
    assert student_client.get(detail).status_code == 404
    assert student_client.get(f"/api/work/labels/{label.pk}/").status_code == 404


@pytest.mark.django_db
def test_deleted_topic_vanishes_from_warm_student_list(client_for, teacher, student, bank):
    student_client = client_for(student)
    victim = bank["normal"][1]
    assert victim.pk in {r["id"] for r in student_client.get(TOPICS).json()["results"]}
    assert client_for(teacher).delete(f"{TOPICS}{victim.pk}/").status_code == 204
    assert victim.pk not in {r["id"] for r in student_client.get(TOPICS).json()["results"]}
    assert Topic.objects.get(pk=victim.pk).is_delete


@pytest.mark.parametrize("who", ["user", "student", "other_teacher", "teacher"])
@pytest.mark.django_db
def test_search_with_the_database_backend_never_leaks(request, client_for, bank, who, settings):
    """The real `apps.work.search.search_topics` on its database backend (no ES configured)."""
    settings.ELASTICSEARCH_URL = ""
    settings.SEARCH_BACKEND = "database"
    client = client_for(request.getfixturevalue(who))
    for query in ({"text": "EXAM"}, {"text": "Question"}, {"text": "answer"}, {}):
        response = client.get("/api/topics/search/", {**query, "limit": 50})
        assert response.status_code == 200
        body = response.json()
        if who in STUDENT_VIEW:
            assert keys_in(body) & {"answer", "is_correct"} == set()
            assert "EXAM" not in json.dumps(body, ensure_ascii=False)
        ids = {r["id"] for r in body["results"]}
        assert bank["deleted"].pk not in ids
        assert body["count"] >= len(ids)
    exam_hits = client.get("/api/topics/search/", {"text": "EXAM"}).json()["count"]
    assert exam_hits == (0 if who in STUDENT_VIEW else 2)
