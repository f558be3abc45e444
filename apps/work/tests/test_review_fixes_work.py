"""Regressions from the code review of the question bank: bad import lines, non-finite scores,
out-of-range id filters and Django-admin deletes that bypassed the services."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.sites import site as admin_site
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.work.models import Label, Topic, TopicType
from apps.work.tests.factories import EssayTopicFactory, LabelFactory, SingleTopicFactory
from utils import cache as response_cache

IMPORT = "/api/work/topics/import/"
TOPICS = "/api/work/topics/"
HUGE = 2**70  # beyond SQLite's 64-bit INTEGER (OverflowError on bind)


def upload(client, content: str, label):
    file = SimpleUploadedFile(
        "bank.jsonl", content.encode(), content_type="application/octet-stream"
    )
    return client.post(IMPORT, {"file": file, "label": label.pk}, format="multipart")


# --- 1. malformed JSON Lines are row errors, not 500 ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_line",
    [
        '{"subject": "x", "type": 4, "score": ' + "9" * 4301 + "}",  # int digit limit: ValueError
        "[" * 100_000,  # RecursionError in the JSON scanner
        '{"subject": ' + "[" * 100_000,
    ],
    ids=["int-over-4300-digits", "deep-brackets", "deep-in-object"],
)
def test_import_jsonl_unparsable_line_is_a_row_error(client_for, teacher, bad_line):
    good = json.dumps({"subject": "ok", "type": 4})
    response = upload(client_for(teacher), f"{good}\n{bad_line}\n", LabelFactory(user=teacher))
    assert response.status_code == 400, response.content[:300]
    rows = response.json()["rows"]
    assert set(rows) == {"2"}
    assert rows["2"][0].startswith("Invalid JSON: ")
    assert not Topic.objects.exists()


# --- 2. score must be a finite number ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("score", ["NaN", "nan", "Infinity", "-Infinity", "1e999", 10**400])
def test_topic_score_non_finite_is_400_on_score(client_for, teacher, score):
    label = LabelFactory(user=teacher)
    body = {"subject": "s", "type": TopicType.ESSAY, "label": label.pk, "score": score}
    response = client_for(teacher).post(TOPICS, body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == {"score"}
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_topic_score_patch_nan_is_400_and_keeps_score(client_for, teacher):
    topic = EssayTopicFactory(label=LabelFactory(user=teacher), user=teacher, score=3.0)
    response = client_for(teacher).patch(f"{TOPICS}{topic.pk}/", {"score": "NaN"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"score"}
    topic.refresh_from_db()
    assert topic.score == 3.0


@pytest.mark.django_db
def test_topic_score_finite_bounds_still_accepted(client_for, teacher):
    label = LabelFactory(user=teacher)
    for score in (0, "1000", 12.5, None):
        body = {"subject": "s", "type": TopicType.ESSAY, "label": label.pk, "score": score}
        response = client_for(teacher).post(TOPICS, body, format="json")
        assert response.status_code == 201, response.content
    response = client_for(teacher).post(
        TOPICS, {"subject": "s", "type": 4, "label": label.pk, "score": 1000.5}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"score"}


@pytest.mark.django_db
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_import_jsonl_non_finite_score_is_a_row_error(client_for, teacher, constant):
    lines = [
        json.dumps({"subject": "ok", "type": 4, "score": 1}),
        '{"subject": "bad", "type": 4, "score": ' + constant + "}",
    ]
    response = upload(client_for(teacher), "\n".join(lines), LabelFactory(user=teacher))
    assert response.status_code == 400, response.content[:300]
    rows = response.json()["rows"]
    assert set(rows) == {"2"}
    assert all(m.startswith("score: ") for m in rows["2"])
    assert not Topic.objects.exists()


# --- 3. id filters beyond the 64-bit range are 400, not an overflow -------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["label", "user"])
@pytest.mark.parametrize("value", [HUGE, -HUGE, 2**63])
def test_topic_list_out_of_range_id_filter_is_400(client_for, teacher, param, value):
    SingleTopicFactory(label=LabelFactory(user=teacher), user=teacher)
    response = client_for(teacher).get(TOPICS, {param: str(value)})
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {param}
    assert isinstance(body[param], list)
    assert body[param]


@pytest.mark.django_db
def test_topic_list_id_filter_at_the_limit_still_filters(client_for, teacher):
    topic = SingleTopicFactory(label=LabelFactory(user=teacher), user=teacher)
    client = client_for(teacher)
    response = client.get(TOPICS, {"label": str(2**63 - 1)})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    response = client.get(TOPICS, {"label": str(topic.label_id), "user": str(teacher.pk)})
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["results"]] == [topic.pk]


@pytest.mark.django_db
def test_out_of_range_label_in_body_search_and_export_is_400(client_for, teacher, fake_search):
    """Same overflow through the label field of a topic body, search and export params."""
    client = client_for(teacher)
    body = {"subject": "s", "type": TopicType.ESSAY, "label": HUGE}
    response = client.post(TOPICS, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"label"}
    for url in ("/api/topics/search/", f"{TOPICS}export/"):
        response = client.get(url, {"label": str(HUGE)})
        assert response.status_code == 400, (url, response.content[:300])
        assert set(response.json()) == {"label"}
    file = SimpleUploadedFile("a.jsonl", b'{"subject": "x", "type": 4}')
    response = client.post(IMPORT, {"file": file, "label": str(HUGE)}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()) == {"label"}


# --- 5. admin deletes go through the services -----------------------------------------------------


def _versions() -> dict[str, str]:
    return response_cache.current_versions(("work:topic", "work:label"))


@pytest.mark.django_db
def test_admin_delete_selected_topics_soft_deletes_and_unindexes(
    admin_client, teacher, index_calls, django_capture_on_commit_callbacks
):
    label = LabelFactory(user=teacher)
    doomed = [SingleTopicFactory(label=label, user=teacher) for _ in range(2)]
    kept = SingleTopicFactory(label=label, user=teacher)
    before = _versions()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/work/topic/",
            {
                "action": "delete_selected",
                "_selected_action": [t.pk for t in doomed],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert set(Topic.objects.filter(is_delete=True).values_list("pk", flat=True)) == {
        t.pk for t in doomed
    }
    assert Topic.objects.filter(pk=kept.pk, is_delete=False).exists()
    assert sorted(index_calls["topic"]) == sorted(t.pk for t in doomed)
    after = _versions()
    assert all(after[ns] != before[ns] for ns in before)


@pytest.mark.django_db
def test_admin_delete_view_topic_soft_deletes(
    admin_client, teacher, index_calls, django_capture_on_commit_callbacks
):
    topic = SingleTopicFactory(label=LabelFactory(user=teacher), user=teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/work/topic/{topic.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Topic.objects.filter(pk=topic.pk, is_delete=True).exists()
    assert index_calls["topic"] == [topic.pk]


@pytest.mark.django_db
def test_admin_delete_selected_labels_uses_service(
    admin_client, teacher, django_capture_on_commit_callbacks
):
    labels = [LabelFactory(user=teacher) for _ in range(2)]
    before = _versions()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/admin/work/label/",
            {
                "action": "delete_selected",
                "_selected_action": [x.pk for x in labels],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not Label.objects.filter(pk__in=[x.pk for x in labels]).exists()
    assert callbacks  # the service's after-commit cache bump
    after = _versions()
    assert all(after[ns] != before[ns] for ns in before)


@pytest.fixture
def protected_check_missed(monkeypatch):
    """Simulate a topic added to the label between the admin's protected check and the delete."""
    admin = admin_site._registry[Label]
    original = type(admin).get_deleted_objects

    def no_protected(self, objs, request):
        deleted, counts, perms, _protected = original(self, objs, request)
        return deleted, counts, perms, []

    monkeypatch.setattr(type(admin), "get_deleted_objects", no_protected)


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["delete_selected", "delete_view"])
def test_admin_delete_label_in_use_is_an_error_message(
    admin_client, teacher, protected_check_missed, how
):
    free = LabelFactory(user=teacher)
    used = LabelFactory(user=teacher)
    SingleTopicFactory(label=used, user=teacher, is_delete=True)  # soft-deleted topics count too
    if how == "delete_selected":
        url = "/admin/work/label/"
        data = {"action": "delete_selected", "_selected_action": [free.pk, used.pk], "post": "yes"}
    else:
        url, data = f"/admin/work/label/{used.pk}/delete/", {"post": "yes"}
    response = admin_client.post(url, data)
    assert response.status_code == 302
    levels = {m.level_tag for m in get_messages(response.wsgi_request)}
    assert levels == {"error"}
    assert Label.objects.filter(pk__in=[free.pk, used.pk]).count() == 2  # all or nothing
    assert not LogEntry.objects.exists()  # no deletion logged for a rolled-back delete
