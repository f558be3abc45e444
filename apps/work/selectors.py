"""Reads of the question bank with THE visibility policy (API.md §2.3, §2.4).

Every read path — list, detail, search hydration, export, cache key bucket — goes through these
functions, so "students never see exam topics" is decided in one place (`apps.work.visibility`).
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from apps.work.models import Label, Topic, TopicOption
from apps.work.visibility import sees_answers, sees_exam

_OPTIONS = Prefetch("options", queryset=TopicOption.objects.order_by("key"))


def topic_list_visible_to(*, user: Any, prefetch: bool = True) -> QuerySet[Topic]:
    """Live topics the caller may read, newest `update_time` first. Source: DB.

    Teachers/staff: every non-deleted topic. Everyone else (students, plain users, anon): minus
    topics whose label has `is_exam=True`. Labels and options are prefetched (one query each)
    unless `prefetch` is false (for `topic_rows`); `user` is rendered as an id only.
    """
    topics = Topic.objects.filter(is_delete=False)
    if prefetch:
        topics = topics.prefetch_related("label", _OPTIONS)
    if sees_exam(user):
        return topics
    # One table plus `NOT IN (exam label ids)`, no join: MariaDB then reads `topic` through
    # (is_delete, update_time) backwards and stops after a page. With a join on `label` (filter or
    # select_related) it drives from the small `label` table and sorts every matching topic
    # ("Using temporary; Using filesort"; see apps/work/tests/test_mariadb_explain.py).
    return topics.exclude(label_id__in=Label.objects.filter(is_exam=True).values("pk"))


def topic_get_visible(*, user: Any, pk: Any) -> Topic:
    """The live topic `pk` if the caller may read it. Raises `Topic.DoesNotExist` otherwise (→ 404)."""
    return topic_list_visible_to(user=user).get(pk=pk)


def topic_list_by_ids(*, user: Any, ids: Iterable[int]) -> list[Topic]:
    """Visible topics among `ids` in the given order, in one query (+ one for options).

    Missing, deleted and (for non-teachers) exam topics are dropped. Used to hydrate search hits:
    one query for the topics with their labels, one for the options.
    """
    ids = list(ids)
    if not ids:
        return []
    topics = (
        topic_list_visible_to(user=user)
        .filter(pk__in=ids)
        .select_related("label")  # a pk lookup: the join costs nothing here
        .prefetch_related(None)
        .prefetch_related(_OPTIONS)
    )
    by_id = {t.pk: t for t in topics}
    return [by_id[i] for i in ids if i in by_id]


# --- rows for rendering lists (values, no model instances) -----------------------------------------

STUDENT_ROW_FIELDS = (
    "id",
    "subject",
    "type",
    "score",
    "description",
    "label_id",
    "user_id",
    "create_time",
    "update_time",
)
TEACHER_ROW_FIELDS = (*STUDENT_ROW_FIELDS, "answer")


def topic_rows(topics: QuerySet[Topic], *, answers: bool) -> QuerySet:
    """`topics` as dict rows of the output fields (no prefetches); `answer` only if `answers`.

    Row: `{"id", "subject", "type", "score", "description", "label_id", "user_id", "create_time",
    "update_time"[, "answer"], "label_name"}`. Complete them with `topic_rows_complete`. The caller keeps the
    visibility (pass a `topic_list_visible_to` queryset).
    """
    # the label name as a dependent subquery (one PK lookup per row of the page), not a join:
    # a join lets MariaDB drive from `label` and sort every topic (see selectors' note above)
    label_name = Label.objects.filter(pk=OuterRef("label_id")).order_by().values("name")[:1]
    return (
        topics.prefetch_related(None)
        .values(*(TEACHER_ROW_FIELDS if answers else STUDENT_ROW_FIELDS))
        .annotate(label_name=Subquery(label_name))
    )


def topic_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `label_name` and `options` (`[{"key", "text", "is_correct"}]` by key) to `rows`.

    Two queries (labels unless every row has `label_name` already, options of all rows), none when
    `rows` is empty. Mutates and returns `rows`.
    """
    if not rows:
        return rows
    if all("label_name" in r for r in rows):
        names = {r["label_id"]: r["label_name"] for r in rows}
    else:
        names = dict(
            Label.objects.filter(pk__in={r["label_id"] for r in rows}).values_list("id", "name")
        )
    options: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    for topic_id, key, text, is_correct in (
        TopicOption.objects.filter(topic_id__in=list(options))
        .order_by("topic_id", "key")
        .values_list("topic_id", "key", "text", "is_correct")
    ):
        options[topic_id].append({"key": key, "text": text, "is_correct": is_correct})
    for row in rows:
        row["label_name"] = names[row["label_id"]]
        row["options"] = options[row["id"]]
    return rows


def topic_rows_by_ids(*, user: Any, ids: Iterable[int]) -> list[dict[str, Any]]:
    """Completed rows (see `topic_rows_complete`) of the visible topics among `ids`, in that order.

    Missing, deleted and (for non-teachers) exam topics are dropped; `answer` only for teachers and
    staff. Two queries: topics with their label names, then the options. Used to hydrate search
    hits.
    """
    ids = list(ids)
    if not ids:
        return []
    topics = topic_list_visible_to(user=user).filter(pk__in=ids).order_by()
    by_id = {r["id"]: r for r in topic_rows(topics, answers=sees_answers(user))}
    return topic_rows_complete([by_id[i] for i in ids if i in by_id])


def label_list_visible_to(*, user: Any) -> QuerySet[Label]:
    """Labels the caller may read (students: no exam labels), newest first. Source: DB."""
    labels = Label.objects.all()
    return labels if sees_exam(user) else labels.filter(is_exam=False)


def label_get_visible(*, user: Any, pk: Any) -> Label:
    """The label `pk` if the caller may read it. Raises `Label.DoesNotExist` otherwise (→ 404)."""
    return label_list_visible_to(user=user).get(pk=pk)
