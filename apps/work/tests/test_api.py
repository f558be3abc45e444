"""Label and topic endpoints: role matrix, validation shapes, filters, flat query counts."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.work.models import Label, Topic, TopicType
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
LABELS = "/api/work/labels/"


@pytest.fixture
def label(teacher):
    return LabelFactory(user=teacher, name="Python basics")


def single_body(label_obj, **extra):
    body = {
        "subject": "Which keyword defines a function?",
        "type": TopicType.SINGLE,
        "score": 2,
        "label": label_obj.pk,
        "options": [
            {"key": "A", "text": "func", "is_correct": False},
            {"key": "B", "text": "def", "is_correct": True},
        ],
    }
    body.update(extra)
    return body


# --- create ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_teacher_creates_topic_server_owned_fields_ignored(
    client_for, teacher, other_teacher, label
):
    body = single_body(label, user=other_teacher.pk, answer="A", id=999, create_time="2000-01-01")
    response = client_for(teacher).post(TOPICS, body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["user"] == teacher.pk
    assert data["answer"] == "B"
    assert data["id"] != 999
    assert data["label_name"] == "Python basics"
    assert data["options"] == [
        {"key": "A", "text": "func", "is_correct": False},
        {"key": "B", "text": "def", "is_correct": True},
    ]
    assert set(data) == {
        "id", "subject", "type", "score", "description", "answer", "label", "label_name",
        "options", "user", "create_time", "update_time",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"type": TopicType.MULTIPLE}, "options"),
        ({"options": []}, "options"),
        ({"type": TopicType.JUDGE, "options": [], "answer": "maybe"}, "answer"),
        ({"type": TopicType.FILL, "options": [], "answer": "not json"}, "answer"),
        ({"type": TopicType.ESSAY}, "options"),
        ({"type": 5}, "type"),
        ({"score": 1001}, "score"),
        ({"subject": ""}, "subject"),
        ({"label": 424242}, "label"),
    ],
)
@pytest.mark.django_db
def test_create_validation_400_on_the_field(client_for, teacher, label, patch, field):
    response = client_for(teacher).post(TOPICS, single_body(label, **patch), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_student_cannot_reference_exam_label(client_for, teacher, student):
    exam = ExamLabelFactory(user=teacher)
    response = client_for(student).post(TOPICS, single_body(exam), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("who", "status"), [("anon", 401), ("student", 403), ("user", 403), ("staff", 201)]
)
@pytest.mark.django_db
def test_create_role_matrix(client_for, who, status, request, label):
    caller = None if who == "anon" else request.getfixturevalue(who)
    response = client_for(caller).post(TOPICS, single_body(label), format="json")
    assert response.status_code == status


# --- update / delete role matrix ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "write", "delete"),
    [
        ("anon", 401, 401),
        ("student", 403, 403),
        ("other_teacher", 403, 403),
        ("teacher", 200, 204),
        ("staff", 200, 204),
    ],
)
@pytest.mark.django_db
def test_topic_write_role_matrix(client_for, teacher, request, who, write, delete):
    topic = EssayTopicFactory(user=teacher, label__user=teacher)
    caller = None if who == "anon" else request.getfixturevalue(who)
    client = client_for(caller)
    response = client.patch(f"{TOPICS}{topic.pk}/", {"subject": "edited"}, format="json")
    assert response.status_code == write
    response = client.delete(f"{TOPICS}{topic.pk}/")
    assert response.status_code == delete
    topic.refresh_from_db()
    assert topic.is_delete is (delete == 204)
    assert (topic.subject == "edited") is (write == 200)


@pytest.mark.django_db
def test_student_writes_are_403_whether_or_not_the_topic_exists(client_for, teacher, student):
    exam_topic = EssayTopicFactory(user=teacher, label=ExamLabelFactory(user=teacher))
    client = client_for(student)
    for url in (f"{TOPICS}{exam_topic.pk}/", f"{TOPICS}424242/"):
        assert client.patch(url, {"subject": "x"}, format="json").status_code == 403
        assert client.delete(url).status_code == 403
    exam_topic.refresh_from_db()
    assert exam_topic.is_delete is False


@pytest.mark.django_db
def test_put_replaces_options_and_patch_validates_merged_state(client_for, teacher, label):
    topic = SingleTopicFactory(user=teacher, label=label)
    client = client_for(teacher)
    url = f"{TOPICS}{topic.pk}/"
    response = client.put(url, single_body(label, options=[
        {"key": "X", "text": "x", "is_correct": True}, {"key": "Y", "text": "y"}
    ]), format="json")  # fmt: skip
    assert response.status_code == 200
    assert [o["key"] for o in response.json()["options"]] == ["X", "Y"]
    assert response.json()["answer"] == "X"
    # PATCH to multiple without options: kept options have one correct → 400 on options
    response = client.patch(url, {"type": TopicType.MULTIPLE}, format="json")
    assert response.status_code == 400
    assert "options" in response.json()


@pytest.mark.django_db
def test_deleted_topic_is_404(client_for, teacher):
    topic = EssayTopicFactory(user=teacher, label__user=teacher)
    client = client_for(teacher)
    assert client.delete(f"{TOPICS}{topic.pk}/").status_code == 204
    assert client.get(f"{TOPICS}{topic.pk}/").status_code == 404
    assert client.delete(f"{TOPICS}{topic.pk}/").status_code == 404
    assert client.get(TOPICS).json()["count"] == 0


# --- filters and pagination -----------------------------------------------------------------------


@pytest.mark.django_db
def test_filters_label_type_user(client_for, teacher, other_teacher):
    a = LabelFactory(user=teacher)
    b = LabelFactory(user=other_teacher)
    JudgeTopicFactory(label=a, user=teacher)
    FillTopicFactory(label=a, user=teacher)
    JudgeTopicFactory(label=b, user=other_teacher)
    client = client_for(teacher)
    assert client.get(TOPICS, {"label": a.pk}).json()["count"] == 2
    assert client.get(TOPICS, {"type": TopicType.JUDGE}).json()["count"] == 2
    assert client.get(TOPICS, {"user": other_teacher.pk}).json()["count"] == 1
    assert client.get(TOPICS, {"label": a.pk, "type": TopicType.FILL}).json()["count"] == 1


@pytest.mark.parametrize("query", [{"label": "x"}, {"type": "9"}, {"user": "1.5"}, {"size": "0"}])
@pytest.mark.django_db
def test_bad_filter_is_400(client_for, teacher, query):
    response = client_for(teacher).get(TOPICS, query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


@pytest.mark.django_db
def test_list_query_count_is_flat(client_for, teacher, student):
    label = LabelFactory(user=teacher)

    def count_queries(user) -> int:
        caches["default"].clear()
        client = client_for(user)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(TOPICS, {"size": 100})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for n in range(10):
        (SingleTopicFactory, MultipleTopicFactory)[n % 2](label=label, user=teacher)
    small = {u.pk: count_queries(u) for u in (teacher, student)}
    for n in range(40):
        (SingleTopicFactory, MultipleTopicFactory)[n % 2](label=label, user=teacher)
    large = {u.pk: count_queries(u) for u in (teacher, student)}
    assert Topic.objects.count() == 50
    assert small == large, (small, large)
    assert max(small.values()) <= 6  # auth state, count, topics, labels, options (+ role)


# --- labels ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_label_crud_and_roles(
    client_for, teacher, other_teacher, student, index_calls, django_capture_on_commit_callbacks
):
    client = client_for(teacher)
    response = client.post(
        LABELS, {"name": "期中考试", "is_exam": True, "user": student.pk}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["user"], data["is_exam"]) == (teacher.pk, True)
    assert set(data) == {"id", "name", "is_exam", "user", "create_time", "update_time"}
    url = f"{LABELS}{data['id']}/"
    assert client.post(LABELS, {"name": "期中考试"}, format="json").status_code == 400
    assert client_for(student).post(LABELS, {"name": "x"}, format="json").status_code == 403
    assert client_for(student).get(url).status_code == 404
    assert client_for(student).get(LABELS).json()["count"] == 0
    assert client_for(other_teacher).get(url).status_code == 200
    assert client_for(other_teacher).patch(url, {"name": "x"}, format="json").status_code == 403
    assert client_for(other_teacher).delete(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(url, {"is_exam": False}, format="json")
    assert response.status_code == 200
    assert index_calls["label"] == [data["id"]]
    assert client_for(student).get(url).status_code == 200
    EssayTopicFactory(label=Label.objects.get(pk=data["id"]), user=teacher)
    response = client.delete(url)
    assert response.status_code == 409
    assert response.json()["code"] == "label_in_use"
    Topic.objects.all().delete()
    assert client.delete(url).status_code == 204
    assert not Label.objects.exists()
