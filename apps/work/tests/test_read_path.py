"""The fast read path of the topic list and search (issue 7): same bodies, fresh counts, few trips.

* `render_topic_rows` (rows → dicts) gives exactly what the DRF serializers give, per view.
* The list's cached `COUNT(*)` is keyed by query + versions: reused across pages and non-filter
  parameters, never served after a topic or label write.
* A warm cached read costs three Redis round trips (state + versions, throttle, body).
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.work import selectors, services
from apps.work.models import Topic
from apps.work.serializers import render_topic_rows, topic_serializer_for
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


@pytest.fixture
def bank(teacher):
    label, exam = LabelFactory(user=teacher), ExamLabelFactory(user=teacher)
    for n, factory in enumerate(
        (SingleTopicFactory, MultipleTopicFactory, JudgeTopicFactory, FillTopicFactory)
    ):
        factory(label=exam if n == 3 else label, user=teacher)
    EssayTopicFactory(label=label, user=teacher, score=None, description=None, answer=None)
    EssayTopicFactory(label=label, user=teacher, score=2.5, description="<b>x</b>")
    return label, exam


def plain(data) -> list:
    return json.loads(json.dumps(data))


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["teacher", "student"])
@pytest.mark.parametrize("search", [False, True])
def test_rendered_rows_equal_the_serializers(bank, request, who, search):
    user = request.getfixturevalue(who)
    topics = selectors.topic_list_visible_to(user=user)
    ids = list(topics.values_list("pk", flat=True))
    highlights = {ids[0]: {"subject": '<em class="hl">a</em>'}} if search else None
    expected = topic_serializer_for(user, search=search)(
        topics, many=True, context={"highlights": highlights or {}}
    ).data
    answers = who == "teacher"
    rows = selectors.topic_rows_complete(list(selectors.topic_rows(topics, answers=answers)))
    got = render_topic_rows(rows, answers=answers, highlights=highlights)
    assert plain(got) == plain(expected)
    assert [list(r) for r in got] == [list(r) for r in expected]  # same key order
    assert len(got) == (6 if answers else 5)
    if not answers:
        assert all(
            "answer" not in r and all("is_correct" not in o for o in r["options"]) for r in got
        )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["teacher", "student"])
def test_list_endpoint_body_equals_the_serializer(bank, client_for, request, who):
    user = request.getfixturevalue(who)
    body = client_for(user).get(TOPICS, {"size": 3, "page": 2}).json()
    page = list(selectors.topic_list_visible_to(user=user)[3:6])
    assert body["results"] == plain(topic_serializer_for(user)(page, many=True).data)
    assert body["count"] == (6 if who == "teacher" else 5)


@pytest.mark.django_db
def test_search_hydration_keeps_order_and_visibility(bank, student, teacher):
    _, exam = bank
    ids = [*list(Topic.objects.order_by("id").values_list("pk", flat=True))[::-1], 10**9]
    exam_ids = set(Topic.objects.filter(label=exam).values_list("pk", flat=True))
    rows = selectors.topic_rows_by_ids(user=student, ids=ids)
    assert [r["id"] for r in rows] == [i for i in ids[:-1] if i not in exam_ids]
    assert all("answer" not in r for r in rows)
    assert [r["id"] for r in selectors.topic_rows_by_ids(user=teacher, ids=ids)] == ids[:-1]


def count_queries(ctx) -> int:
    return sum("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


@pytest.mark.django_db
def test_count_is_cached_across_pages_and_non_filters_but_not_filters(bank, client_for, student):
    client = client_for(student)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(TOPICS, {"size": 2, "_nc": "a"}).json()["count"] == 5
    assert count_queries(ctx) == 1
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(TOPICS, {"size": 2, "page": 2, "_nc": "b"}).json()["count"] == 5
    assert count_queries(ctx) == 0  # page 2 and another _nc: same query, same versions
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(TOPICS, {"type": 4, "_nc": "c"}).json()["count"] == 2
    assert count_queries(ctx) == 1


@pytest.mark.django_db
def test_cached_count_and_body_never_outlive_a_write(bank, client_for, student, teacher):
    label, _ = bank
    client = client_for(student)
    assert client.get(TOPICS).json()["count"] == 5
    services.topic_create(user=teacher, subject="new", type=4, label=label)
    assert client.get(TOPICS).json()["count"] == 6
    assert client.get(TOPICS, {"_nc": "x"}).json()["count"] == 6
    services.label_update(label=label, data={"is_exam": True})  # its 6 topics leave the view
    assert client.get(TOPICS, {"_nc": "x"}).json()["count"] == 0
    assert client.get(TOPICS).json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.django_db
def test_filter_values_are_still_validated(bank, client_for, student):
    assert client_for(student).get(TOPICS, {"label": "x"}).status_code == 400


@pytest.mark.django_db
def test_warm_cached_read_is_three_redis_round_trips(bank, client_for, student, redis_required):
    from redis.connection import Connection

    client = client_for(student)
    first = client.get(TOPICS).json()
    trips = []
    original = Connection.send_packed_command

    def counting(self, command, *args, **kwargs):
        trips.append(command)
        return original(self, command, *args, **kwargs)

    Connection.send_packed_command = counting
    try:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(TOPICS).json() == first
    finally:
        Connection.send_packed_command = original
    assert ctx.captured_queries == []
    # MGET auth state + versions; the throttle's INCR/EXPIRE/GET pipeline; GET of the body
    assert len(trips) == 3, trips
