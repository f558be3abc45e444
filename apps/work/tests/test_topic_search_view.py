"""The topic search endpoint's own rules (params, envelope, links, hydration, 503, throttle),
with `apps.work.search.search_topics` replaced by the `fake_search` stand-in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.work.tests.factories import ExamLabelFactory, LabelFactory, SingleTopicFactory
from utils.exceptions import SearchUnavailable

SEARCH = "/api/topics/search/"
ALIAS = "/api/work/topics/search/"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"text": "x" * 101}, "text"),
        ({"type": "5"}, "type"),
        ({"type": "a"}, "type"),
        ({"label": "424242"}, "label"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"offset": "9991", "limit": "10"}, "offset"),
    ],
)
@pytest.mark.django_db
def test_bad_params_are_400(client_for, student, fake_search, query, field):
    response = client_for(student).get(SEARCH, query)
    assert response.status_code == 400
    assert field in response.json()
    assert fake_search.calls == []


@pytest.mark.django_db
def test_exam_label_param_is_400_for_students_only(client_for, teacher, student, fake_search):
    exam = ExamLabelFactory(user=teacher)
    assert client_for(student).get(SEARCH, {"label": exam.pk}).status_code == 400
    assert client_for(teacher).get(SEARCH, {"label": exam.pk}).status_code == 200
    assert fake_search.calls[-1]["label"] == exam.pk


@pytest.mark.django_db
def test_params_passed_trimmed_with_defaults(client_for, student, fake_search):
    response = client_for(student).get(ALIAS, {"text": "  python  ", "type": "2"})
    assert response.status_code == 200
    call = fake_search.calls[0]
    assert call["user"] == student
    assert (call["text"], call["type"], call["label"], call["offset"], call["limit"]) == (
        "python",
        2,
        None,
        0,
        10,
    )


@pytest.mark.django_db
def test_envelope_links_order_and_highlight(client_for, teacher, student, fake_search):
    label = LabelFactory(user=teacher)
    topics = [
        SingleTopicFactory(label=label, user=teacher, subject=f"python <b>{n}</b>")
        for n in range(5)
    ]
    response = client_for(student).get(
        SEARCH, {"text": "python", "offset": 1, "limit": 2, "type": 0}
    )
    body = response.json()
    assert body["count"] == 5
    assert [r["id"] for r in body["results"]] == [topics[3].pk, topics[2].pk]  # ES order kept
    assert (
        body["next"] == "http://testserver/api/topics/search/?limit=2&offset=3&text=python&type=0"
    )
    assert (
        body["previous"]
        == "http://testserver/api/topics/search/?limit=2&offset=0&text=python&type=0"
    )
    first = body["results"][0]
    assert first["subject"] == "python <b>3</b>"  # plain text
    assert first["subject_highlight"] == '<em class="hl">python</em> &lt;b&gt;3&lt;/b&gt;'
    assert first["description_highlight"] is None
    last = client_for(student).get(SEARCH, {"offset": 4, "limit": 2}).json()
    assert last["next"] is None
    assert last["results"][0]["subject_highlight"] is None  # empty text → null


@pytest.mark.django_db
def test_hydration_is_one_query_plus_options_and_drops_missing_rows(
    client_for, teacher, fake_search
):
    label = LabelFactory(user=teacher)
    for _ in range(8):
        SingleTopicFactory(label=label, user=teacher)
    fake_search.extra_ids = [990001, 990002]
    client = client_for(teacher)
    client.get(SEARCH)  # warm the role lookup paths
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(SEARCH, {"limit": 50}).json()
    topic_queries = [q for q in ctx.captured_queries if "topic" in q["sql"].lower()]
    fake_queries = [
        q for q in topic_queries if "update_time" in q["sql"] and "LIMIT" not in q["sql"]
    ]
    assert len(body["results"]) == 8
    assert body["count"] == 10  # the backend's count
    hydration = [q for q in topic_queries if "IN (" in q["sql"]]
    assert len(hydration) == 2, [q["sql"] for q in hydration]  # topics + options
    assert fake_queries  # the stand-in's own reads are separate


@pytest.mark.django_db
def test_search_unavailable_is_503(client_for, student, fake_search):
    fake_search.error = SearchUnavailable()
    response = client_for(student).get(SEARCH, {"text": "x"})
    assert response.status_code == 503
    assert response.json()["detail"] == "Search is temporarily unavailable."


@pytest.mark.django_db
def test_search_needs_auth_and_is_throttled(client_for, student, fake_search, monkeypatch):
    from apps.work.views import SearchThrottle

    assert SearchThrottle().rate == "60/min"  # API.md §1.6
    assert client_for(None).get(SEARCH).status_code == 401
    monkeypatch.setattr(SearchThrottle, "THROTTLE_RATES", {"search": "2/min", "user": "1000/hour"})
    client = client_for(student)
    assert [client.get(SEARCH).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(ALIAS).status_code == 429  # one bucket for both paths


@pytest.mark.django_db
def test_reindex_staff_only(client_for, teacher, staff, index_calls):
    assert client_for(teacher).post("/api/work/topics/reindex/").status_code == 403
    response = client_for(staff).post("/api/work/topics/reindex/")
    assert response.status_code == 202
    assert response.json() == {"task_id": "task-id-1"}
    assert index_calls["rebuild"] == [None]
