"""The fast read path of the topic list and search (issue 7): same bodies, fresh counts, few trips.

* `render_topic_rows` (rows → dicts) gives exactly what the DRF serializers give, per view.
* The list's cached `COUNT(*)` is keyed by query + versions: reused across pages and non-filter
  parameters, never served after a topic or label write.
* A warm cached read costs two Redis round trips (state + versions + throttle, body).
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.work import selectors, services
from apps.work.models import Topic
from apps.work.serializers import render_topic_rows, topic_serializer_for
from apps.work.tests import search_fixtures
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
es_index = search_fixtures.es_index


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
def test_count_is_cached_across_pages_and_non_filters_but_not_filters(
    bank, client_for, student, teacher
):
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
    # the teacher view (exam topics too) has its own count
    assert client_for(teacher).get(TOPICS, {"size": 2, "_nc": "a"}).json()["count"] == 6


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
def test_warm_cached_read_is_one_redis_round_trip(bank, client_for, student, redis_required):
    from django.core.cache import cache
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
    # one EVALSHA: MGET auth state + versions, the user throttle's INCR/EXPIRE/GET; the body is
    # this process's copy of the versioned entry (utils.cache.LocalFirstCache), no second GET
    assert len(trips) == 1, trips
    # the throttle counted each request once, though it was counted ahead of its own check
    windows = cache.keys(f"throttle_user_{student.pk}:*")
    assert sum(cache.get(k) for k in windows) == 2  # (one window, unless an hour turned)


# --- search: cached bodies, invalidated by writes and by index changes -----------------------------

SEARCH = "/api/topics/search/"


@pytest.mark.django_db
def test_search_body_is_cached_per_role_and_params(bank, client_for, student, teacher, fake_search):
    client = client_for(student)
    first = client.get(SEARCH, {"text": "a"}).json()
    assert client.get(SEARCH, {"text": "a"}).json() == first
    assert len(fake_search.calls) == 1  # the second answer came from the cache
    client.get(SEARCH, {"text": "b"})
    teacher_body = client_for(teacher).get(SEARCH, {"text": "a"}).json()
    assert len(fake_search.calls) == 3
    assert "answer" in teacher_body["results"][0]
    assert all("answer" not in r for r in first["results"])


@pytest.mark.django_db
def test_cached_search_is_dropped_by_a_write_and_by_an_index_change(
    bank, client_for, student, teacher, fake_search, index_calls
):
    from apps.work import search

    label, _ = bank
    client = client_for(student)
    count = client.get(SEARCH).json()["count"]
    services.topic_create(user=teacher, subject="new", type=4, label=label)
    assert client.get(SEARCH).json()["count"] == count + 1  # the write bumped work:topic
    assert len(fake_search.calls) == 2
    search.search_index_changed()  # what sync_topics calls once its writes are searchable
    client.get(SEARCH)
    assert len(fake_search.calls) == 3


@pytest.mark.django_db
def test_search_errors_are_not_cached(bank, client_for, student, fake_search):
    from utils.exceptions import SearchUnavailable

    client = client_for(student)
    fake_search.error = SearchUnavailable(reason="down")
    assert client.get(SEARCH).status_code == 503
    fake_search.error = None
    assert client.get(SEARCH).status_code == 200


def test_search_namespace_names_agree():
    from apps.work import search, views

    assert search.SEARCH_CACHE_NAMESPACE in views.SEARCH_CACHE_NAMESPACES


@pytest.mark.django_db
def test_a_cached_search_sees_a_topic_once_the_index_has_it(
    es_index, client_for, teacher, student, index_calls, django_capture_on_commit_callbacks
):
    from apps.work import search

    label = LabelFactory(user=teacher)
    with django_capture_on_commit_callbacks(execute=True):  # the index task is only recorded
        services.topic_create(user=teacher, subject="琵琶行：浔阳江头夜送客", type=4, label=label)
    topic = Topic.objects.get()
    client = client_for(student)
    assert client.get(SEARCH, {"text": "琵琶行"}).json()["count"] == 0  # not indexed yet: cached
    assert index_calls["topic"] == [topic.pk]
    search.sync_topics(topic_ids=[topic.pk])  # what the index task runs after commit
    body = client.get(SEARCH, {"text": "琵琶行"}).json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == topic.pk


@pytest.mark.django_db
def test_compiled_page_and_hydration_sql_follow_later_writes(bank, student, teacher):
    label, _ = bank
    first = selectors.topic_page_rows(user=student, offset=0, limit=10)  # compiles (or reuses)
    ids = [r["id"] for r in first]
    assert ids == list(selectors.topic_list_visible_to(user=student).values_list("pk", flat=True))
    assert [r["id"] for r in selectors.topic_page_rows(user=student, offset=1, limit=2)] == ids[1:3]
    assert selectors.topic_rows_by_ids(user=student, ids=ids[:2])[1]["id"] == ids[1]
    services.label_update(label=label, data={"is_exam": True})  # the same SQL, run again
    assert selectors.topic_page_rows(user=student, offset=0, limit=10) == []
    assert selectors.topic_rows_by_ids(user=student, ids=ids[:2]) == []
    teacher_rows = selectors.topic_page_rows(user=teacher, offset=0, limit=10)
    assert len(teacher_rows) == 6
    assert all("answer" in r for r in teacher_rows)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["teacher", "student"])
def test_search_hydration_gives_the_rows_of_the_list_path_in_two_queries(bank, request, who):
    user = request.getfixturevalue(who)
    ids = list(Topic.objects.order_by("-id").values_list("pk", flat=True))
    visible = selectors.topic_list_visible_to(user=user, prefetch=False).filter(pk__in=ids)
    expected = selectors.topic_rows_complete(
        list(selectors.topic_rows(visible.order_by("-id"), answers=who == "teacher"))
    )
    if who == "student":
        for row in expected:
            row["options"] = [{"key": o["key"], "text": o["text"]} for o in row["options"]]
    assert any(row["options"] for row in expected)
    with CaptureQueriesContext(connection) as ctx:
        rows = selectors.topic_rows_by_ids(user=user, ids=ids)
    assert len(ctx.captured_queries) == 2  # topics with label names, then options
    assert rows == expected  # same keys, values, option order and is_correct booleans
