"""Writes of the question bank: labels and topics with their per-type rules (API.md §2.3, §2.4).

Every write runs in one transaction, bumps the response-cache versions of `work:topic` and
`work:label` (so no cached body outlives it) and enqueues the Elasticsearch sync on commit.
Per-type violations raise `django.core.exceptions.ValidationError({"options"|"answer": [...]})`,
which DRF serializers render as 400 field errors (API.md §1.5).
"""

import json
import logging
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from apps.work import tasks
from apps.work.models import CHOICE_TYPES, Label, Topic, TopicOption, TopicType
from utils import cache as response_cache
from utils.exceptions import Conflict

logger = logging.getLogger(__name__)

CACHE_NAMESPACES = ("work:topic", "work:label")
MIN_OPTIONS, MAX_OPTIONS = 2, 10
JUDGE_ANSWERS = ("true", "false")


class OptionData(TypedDict):
    """One option as written by clients: `{"key": "A", "text": "...", "is_correct": bool}`."""

    key: str
    text: str
    is_correct: bool


class LabelInUse(Conflict):
    """409 `label_in_use`: topics still reference the label (API.md §2.3)."""

    code = "label_in_use"
    default_message = "The label is used by topics."


def _bump_caches() -> None:
    # Now (this transaction's own later reads) and again after commit: a concurrent reader that
    # cached pre-commit rows under the first bump's version is bypassed by the second.
    response_cache.bump(*CACHE_NAMESPACES)
    transaction.on_commit(partial(response_cache.bump, *CACHE_NAMESPACES))


def _after_commit_index(topic_id: int) -> None:
    transaction.on_commit(partial(tasks.topic_index_task.delay, topic_id))


# --- per-type rules -------------------------------------------------------------------------------


def topic_clean(
    *, type: int, options: Sequence[OptionData] | None, answer: str | None
) -> tuple[list[OptionData], str | None]:
    """Check `options`/`answer` against the topic type and return their stored form.

    Rules (API.md §2.4): 0 single → 2–10 options, exactly one correct; 1 multiple → 2–10 options,
    at least two correct; for 0/1 `answer` becomes the correct keys in key order (e.g. "AC") and a
    sent value is ignored. 2 judge → no options, `answer` "true"/"false" (case-insensitive, stored
    lower-case). 3 fill-in → no options, `answer` a JSON list of non-empty strings (stored as compact
    JSON). 4 essay → no options, `answer` optional free text.

    Raises ValidationError({"options": [...]}) or ({"answer": [...]}); both keys when both fail.
    """
    options = list(options or [])
    errors: dict[str, list[str]] = {}
    if type in CHOICE_TYPES:
        options = sorted(options, key=lambda o: o["key"])
        option_errors = _choice_option_errors(type, options)
        if option_errors:
            errors["options"] = option_errors
        answer = "".join(o["key"] for o in options if o["is_correct"])
    else:
        if options:
            errors["options"] = ["This topic type takes no options."]
        answer, answer_errors = _clean_answer(type, answer)
        if answer_errors:
            errors["answer"] = answer_errors
    if errors:
        raise ValidationError(errors)
    return options, answer


def _choice_option_errors(type: int, options: list[OptionData]) -> list[str]:
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        return [f"A choice topic needs {MIN_OPTIONS} to {MAX_OPTIONS} options."]
    keys = [o["key"] for o in options]
    if any(not k or not k.strip() or len(k) > 2 for k in keys):
        return ["Option keys are 1 to 2 non-blank characters."]
    if len(set(keys)) != len(keys):
        return ["Option keys must be unique."]
    if any(not (o["text"] or "").strip() for o in options):
        return ["Option texts may not be blank."]
    correct = sum(1 for o in options if o["is_correct"])
    if type == TopicType.SINGLE and correct != 1:
        return ["A single-choice topic needs exactly one correct option."]
    if type == TopicType.MULTIPLE and correct < 2:
        return ["A multiple-choice topic needs at least two correct options."]
    return []


def _clean_answer(type: int, answer: str | None) -> tuple[str | None, list[str]]:
    if type == TopicType.JUDGE:
        value = (answer or "").strip().lower()
        if value not in JUDGE_ANSWERS:
            return answer, ['A true/false topic needs answer "true" or "false".']
        return value, []
    if type == TopicType.FILL:
        try:
            blanks = json.loads(answer or "")
        except ValueError:
            blanks = None
        if (
            not isinstance(blanks, list)
            or not blanks
            or not all(isinstance(b, str) and b.strip() for b in blanks)
        ):
            return answer, ["A fill-in topic needs a JSON list of the blanks' texts, in order."]
        return json.dumps(blanks, ensure_ascii=False), []
    return (answer if answer else None), []  # essay: optional reference answer


# --- topics ---------------------------------------------------------------------------------------


def _options_replace(topic: Topic, options: Iterable[OptionData]) -> None:
    topic.options.all().delete()
    TopicOption.objects.bulk_create(
        TopicOption(topic=topic, key=o["key"], text=o["text"], is_correct=o["is_correct"])
        for o in options
    )


@transaction.atomic
def topic_create(
    *,
    user: Any,
    subject: str,
    type: int,
    label: Label,
    score: float | None = None,
    description: str | None = None,
    answer: str | None = None,
    options: Sequence[OptionData] | None = None,
) -> Topic:
    """Create a topic owned by `user` with its options (API.md §2.4 "Topic body").

    Raises ValidationError on `options`/`answer` (see `topic_clean`). Indexed after commit.
    """
    options, answer = topic_clean(type=type, options=options, answer=answer)
    topic = Topic.objects.create(
        user=user,
        subject=subject,
        type=type,
        label=label,
        score=score,
        description=description,
        answer=answer,
    )
    _options_replace(topic, options)
    _bump_caches()
    _after_commit_index(topic.pk)
    logger.info("topic %s created by user %s", topic.pk, user.pk)
    return topic


UPDATABLE_FIELDS = ("subject", "type", "label", "score", "description", "answer")


def topic_merge(*, topic: Topic, data: dict[str, Any]) -> tuple[int, list[OptionData], str | None]:
    """The (type, options, answer) a partial write `data` would leave on `topic`, unchecked.

    Options not sent: kept while the new type is a choice type, dropped otherwise. Answer not sent:
    kept while the type is unchanged, else cleared (a judge/fill-in then asks for one).
    """
    new_type = data.get("type", topic.type)
    if "options" in data:
        options = list(data["options"] or [])
    elif new_type in CHOICE_TYPES:
        options = [
            OptionData(key=o.key, text=o.text, is_correct=o.is_correct) for o in topic.options.all()
        ]
    else:
        options = []
    answer = data.get("answer", topic.answer if new_type == topic.type else None)
    return new_type, options, answer


@transaction.atomic
def topic_update(*, topic: Topic, data: dict[str, Any]) -> Topic:
    """Apply a full or partial write to `topic`; `options`, when sent, replace all rows.

    `data` keys: any of `subject`, `type`, `label`, `score`, `description`, `answer`, `options`
    (unknown keys, e.g. `user`, are ignored). Raises ValidationError on `options`/`answer`.
    Reindexed after commit.
    """
    new_type, options, answer = topic_merge(topic=topic, data=data)
    options, answer = topic_clean(type=new_type, options=options, answer=answer)
    for field in UPDATABLE_FIELDS:
        if field in data:
            setattr(topic, field, data[field])
    topic.type = new_type
    topic.answer = answer
    topic.save()
    _options_replace(topic, options)
    if hasattr(topic, "_prefetched_objects_cache"):
        topic._prefetched_objects_cache.pop("options", None)
    _bump_caches()
    _after_commit_index(topic.pk)
    return topic


@transaction.atomic
def topic_delete(*, topic: Topic) -> None:
    """Soft-delete the topic (API.md §2.4); its ES document is removed after commit. Repeat: no-op.

    `update_time` moves too: an index rebuild running meanwhile catches up on rows changed since
    it started (`utils.search`), and would otherwise keep the deleted topic in the new index.
    """
    Topic.objects.filter(pk=topic.pk, is_delete=False).update(
        is_delete=True, update_time=timezone.now()
    )
    _bump_caches()
    _after_commit_index(topic.pk)
    logger.info("topic %s deleted", topic.pk)


@transaction.atomic
def topics_bulk_create(*, user: Any, label: Label, rows: Sequence[dict[str, Any]]) -> list[Topic]:
    """Create many topics (an import) in one transaction with two bulk inserts.

    `rows`: topic bodies already checked with `topic_clean` (keys `subject`, `type`, `score`,
    `description`, `answer`, `options`); all get `label` and owner `user`. One bulk index task for
    all new ids runs after commit. Returns the new topics (with pks).
    """
    topics = [
        Topic(
            user=user,
            label=label,
            subject=row["subject"],
            type=row["type"],
            score=row.get("score"),
            description=row.get("description"),
            answer=row.get("answer"),
        )
        for row in rows
    ]
    if connection.features.can_return_rows_from_bulk_insert:  # SQLite, PostgreSQL, MariaDB ≥10.5
        topics = Topic.objects.bulk_create(topics)
    else:  # MySQL: no RETURNING, so the ids come from one INSERT per row
        for topic in topics:
            topic.save(force_insert=True)
    TopicOption.objects.bulk_create(
        TopicOption(topic=topic, key=o["key"], text=o["text"], is_correct=o["is_correct"])
        for topic, row in zip(topics, rows, strict=True)
        for o in row.get("options") or []
    )
    ids = [t.pk for t in topics]
    _bump_caches()
    if ids:
        transaction.on_commit(partial(tasks.topics_index_task.delay, ids))
    logger.info("imported %d topics into label %s by user %s", len(ids), label.pk, user.pk)
    return topics


def after_admin_write(*, topic_id: int | None = None, label_id: int | None = None) -> None:
    """After a Django-admin save (staff tool, model forms): bump caches; after commit reindex
    topic `topic_id` and/or every topic of label `label_id`."""
    _bump_caches()
    if topic_id is not None:
        _after_commit_index(topic_id)
    if label_id is not None:
        transaction.on_commit(partial(tasks.label_reindex_task.delay, label_id))


# --- labels ---------------------------------------------------------------------------------------


@transaction.atomic
def label_create(*, user: Any, name: str, is_exam: bool = False) -> Label:
    """Create a label owned by `user` (API.md §2.3). Name uniqueness is checked by the caller."""
    label = Label.objects.create(user=user, name=name, is_exam=is_exam)
    _bump_caches()
    return label


@transaction.atomic
def label_update(*, label: Label, data: dict[str, Any]) -> Label:
    """Rename a label and/or flip `is_exam`; its topics are reindexed after commit when either changes.

    `data` keys: `name`, `is_exam` (others ignored).
    """
    changed = False
    for field in ("name", "is_exam"):
        if field in data and getattr(label, field) != data[field]:
            setattr(label, field, data[field])
            changed = True
    label.save()
    _bump_caches()
    if changed:
        transaction.on_commit(partial(tasks.label_reindex_task.delay, label.pk))
    return label


@transaction.atomic
def label_delete(*, label: Label) -> None:
    """Delete a label no topic references (soft-deleted topics count: the FK is PROTECT).

    Raises LabelInUse (409 `label_in_use`, extra `topics`: number of referencing topics).
    """
    Label.objects.select_for_update().filter(pk=label.pk).first()
    in_use = Topic.objects.filter(label=label).count()
    if in_use:
        raise LabelInUse(topics=in_use)
    try:
        with transaction.atomic():
            label.delete()
    except (ProtectedError, IntegrityError):  # a topic was added concurrently
        raise LabelInUse(topics=Topic.objects.filter(label=label).count()) from None
    _bump_caches()
