"""Services of the question bank: per-type rules, option replacement, index/caching side effects."""

import json

import pytest
from django.core.exceptions import ValidationError

from apps.work import services
from apps.work.models import Label, Topic, TopicOption, TopicType
from apps.work.tests.factories import (
    EssayTopicFactory,
    ExamLabelFactory,
    JudgeTopicFactory,
    LabelFactory,
    SingleTopicFactory,
)
from utils import cache as response_cache


def opts(*spec):
    """opts("A+", "B", "C+") → options with `+` marking the correct ones."""
    return [
        {"key": s.rstrip("+"), "text": f"text {s.rstrip('+')}", "is_correct": s.endswith("+")}
        for s in spec
    ]


VALID = [
    (TopicType.SINGLE, opts("A", "B+"), None, "B"),
    (TopicType.SINGLE, opts("B+", "A"), "ignored", "B"),
    (TopicType.MULTIPLE, opts("C+", "A+", "B"), "X", "AC"),
    (TopicType.MULTIPLE, opts(*[f"{k}+" for k in "ABCDEFGHIJ"]), None, "ABCDEFGHIJ"),
    (TopicType.JUDGE, [], "TRUE", "true"),
    (TopicType.JUDGE, None, "false", "false"),
    (TopicType.FILL, [], '["Guido", "1991"]', '["Guido", "1991"]'),
    (TopicType.FILL, None, '["北京"]', '["北京"]'),
    (TopicType.ESSAY, None, None, None),
    (TopicType.ESSAY, [], "reference", "reference"),
]


@pytest.mark.parametrize(("kind", "options", "answer", "stored"), VALID)
def test_topic_clean_accepts_and_normalises(kind, options, answer, stored):
    _, cleaned = services.topic_clean(type=kind, options=options, answer=answer)
    assert cleaned == stored


INVALID = [
    (TopicType.SINGLE, opts("A+"), None, "options"),
    (TopicType.SINGLE, opts("A+", "B+"), None, "options"),
    (TopicType.SINGLE, opts("A", "B"), None, "options"),
    (TopicType.SINGLE, None, None, "options"),
    (TopicType.SINGLE, opts(*"ABCDEFGHIJ", "K+"), None, "options"),
    (
        TopicType.SINGLE,
        [*opts("A+"), {"key": "A", "text": "dup", "is_correct": False}],
        None,
        "options",
    ),
    (TopicType.MULTIPLE, opts("A+", "B"), None, "options"),
    (TopicType.MULTIPLE, opts("A", "B", "C"), None, "options"),
    (TopicType.JUDGE, opts("A+", "B"), "true", "options"),
    (TopicType.JUDGE, None, "yes", "answer"),
    (TopicType.JUDGE, None, None, "answer"),
    (TopicType.FILL, None, "Guido", "answer"),
    (TopicType.FILL, None, "[]", "answer"),
    (TopicType.FILL, None, "[1, 2]", "answer"),
    (TopicType.FILL, None, '{"a": "b"}', "answer"),
    (TopicType.FILL, None, '["ok", "  "]', "answer"),
    (TopicType.FILL, opts("A+", "B"), '["x"]', "options"),
    (TopicType.ESSAY, opts("A+", "B"), None, "options"),
]


@pytest.mark.parametrize(("kind", "options", "answer", "field"), INVALID)
def test_topic_clean_rejects_with_the_failing_field(kind, options, answer, field):
    with pytest.raises(ValidationError) as exc:
        services.topic_clean(type=kind, options=options, answer=answer)
    assert field in exc.value.message_dict


@pytest.mark.django_db
def test_topic_create_derives_answer_and_stores_options(
    teacher, index_calls, django_capture_on_commit_callbacks
):
    label = LabelFactory(user=teacher)
    with django_capture_on_commit_callbacks(execute=True):
        topic = services.topic_create(
            user=teacher,
            subject="s",
            type=TopicType.MULTIPLE,
            label=label,
            answer="Z",
            options=opts("B+", "A+", "C"),
        )
    assert topic.answer == "AB"
    assert list(topic.options.values_list("key", "is_correct")) == [
        ("A", True),
        ("B", True),
        ("C", False),
    ]
    assert index_calls["topic"] == [topic.pk]


@pytest.mark.django_db
def test_topic_update_replaces_options_as_a_whole(teacher):
    topic = SingleTopicFactory(user=teacher, label__user=teacher)
    old_ids = set(topic.options.values_list("id", flat=True))
    services.topic_update(topic=topic, data={"options": opts("X", "Y+")})
    topic.refresh_from_db()
    assert topic.answer == "Y"
    assert list(topic.options.values_list("key", flat=True)) == ["X", "Y"]
    assert not TopicOption.objects.filter(id__in=old_ids).exists()


@pytest.mark.django_db
def test_topic_update_type_change_drops_options_and_asks_for_answer(teacher):
    topic = SingleTopicFactory(user=teacher, label__user=teacher)
    with pytest.raises(ValidationError) as exc:
        services.topic_update(topic=topic, data={"type": TopicType.JUDGE})
    assert "answer" in exc.value.message_dict
    services.topic_update(topic=topic, data={"type": TopicType.JUDGE, "answer": "False"})
    topic.refresh_from_db()
    assert (topic.type, topic.answer, topic.options.count()) == (TopicType.JUDGE, "false", 0)


@pytest.mark.django_db
def test_topic_update_partial_keeps_unsent_fields(teacher):
    topic = JudgeTopicFactory(user=teacher, label__user=teacher, answer="true")
    services.topic_update(topic=topic, data={"subject": "new subject"})
    topic.refresh_from_db()
    assert (topic.subject, topic.answer) == ("new subject", "true")


@pytest.mark.django_db
def test_topic_delete_is_soft_and_indexed_after_commit(
    teacher, index_calls, django_capture_on_commit_callbacks
):
    topic = EssayTopicFactory(user=teacher, label__user=teacher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.topic_delete(topic=topic)
        assert index_calls["topic"] == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert Topic.objects.get(pk=topic.pk).is_delete is True
    assert index_calls["topic"] == [topic.pk]


@pytest.mark.django_db
def test_every_write_bumps_the_cache_versions(teacher):
    before = response_cache.current_version("work:topic")
    label = services.label_create(user=teacher, name="L1")
    after_label = response_cache.current_version("work:topic")
    services.topic_create(user=teacher, subject="s", type=TopicType.ESSAY, label=label)
    assert before != after_label != response_cache.current_version("work:topic")


@pytest.mark.django_db
def test_label_update_reindexes_only_on_name_or_exam_change(
    teacher, index_calls, django_capture_on_commit_callbacks
):
    label = LabelFactory(user=teacher, name="before")
    with django_capture_on_commit_callbacks(execute=True):
        services.label_update(label=label, data={"name": "before"})
    assert index_calls["label"] == []
    with django_capture_on_commit_callbacks(execute=True):
        services.label_update(label=label, data={"is_exam": True})
    with django_capture_on_commit_callbacks(execute=True):
        services.label_update(label=label, data={"name": "after"})
    assert index_calls["label"] == [label.pk, label.pk]


@pytest.mark.django_db
def test_label_delete_in_use_is_409_even_for_soft_deleted_topics(teacher):
    label = ExamLabelFactory(user=teacher)
    EssayTopicFactory(label=label, user=teacher, is_delete=True)
    with pytest.raises(services.LabelInUse) as exc:
        services.label_delete(label=label)
    assert exc.value.code == "label_in_use"
    assert exc.value.extra == {"topics": 1}
    assert Label.objects.filter(pk=label.pk).exists()


@pytest.mark.django_db
def test_label_delete_unused(teacher):
    label = LabelFactory(user=teacher)
    services.label_delete(label=label)
    assert not Label.objects.filter(pk=label.pk).exists()


@pytest.mark.django_db
def test_bulk_create_one_index_task_for_all_rows(
    teacher, index_calls, django_capture_on_commit_callbacks
):
    label = LabelFactory(user=teacher)
    rows = []
    for kind, options, answer, _ in VALID[:4]:
        cleaned_options, cleaned_answer = services.topic_clean(
            type=kind, options=options, answer=answer
        )
        rows.append(
            {
                "subject": f"s{kind}",
                "type": kind,
                "options": cleaned_options,
                "answer": cleaned_answer,
            }
        )
    with django_capture_on_commit_callbacks(execute=True):
        topics = services.topics_bulk_create(user=teacher, label=label, rows=rows)
    assert len(index_calls["topics"]) == 1
    assert sorted(index_calls["topics"][0]) == sorted(t.pk for t in topics)
    assert TopicOption.objects.filter(topic__in=topics).count() == sum(
        len(r["options"]) for r in rows
    )
    assert json.loads(json.dumps([t.answer for t in topics])) == ["B", "B", "AC", "ABCDEFGHIJ"]
