"""Reads of the question bank with THE visibility policy (API.md §2.3, §2.4).

Every read path — list, detail, search hydration, export, cache key bucket — goes through these
functions, so "students never see exam topics" is decided in one place (`apps.work.visibility`).
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet

from apps.work.models import Label, Topic, TopicOption
from apps.work.visibility import sees_exam


def topic_list_visible_to(*, user: Any) -> QuerySet[Topic]:
    """Live topics the caller may read, newest `update_time` first. Source: DB.

    Teachers/staff: every non-deleted topic. Everyone else (students, plain users, anon): minus
    topics whose label has `is_exam=True`. Label and user are joined; options are prefetched.
    """
    topics = (
        Topic.objects.filter(is_delete=False)
        .select_related("label", "user")
        .prefetch_related(Prefetch("options", queryset=TopicOption.objects.order_by("key")))
    )
    return topics if sees_exam(user) else topics.filter(label__is_exam=False)


def topic_get_visible(*, user: Any, pk: Any) -> Topic:
    """The live topic `pk` if the caller may read it. Raises `Topic.DoesNotExist` otherwise (→ 404)."""
    return topic_list_visible_to(user=user).get(pk=pk)


def topic_list_by_ids(*, user: Any, ids: Iterable[int]) -> list[Topic]:
    """Visible topics among `ids` in the given order, in one query (+ one for options).

    Missing, deleted and (for non-teachers) exam topics are dropped. Used to hydrate search hits.
    """
    ids = list(ids)
    if not ids:
        return []
    by_id = {t.pk: t for t in topic_list_visible_to(user=user).filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def label_list_visible_to(*, user: Any) -> QuerySet[Label]:
    """Labels the caller may read (students: no exam labels), newest first. Source: DB."""
    labels = Label.objects.all()
    return labels if sees_exam(user) else labels.filter(is_exam=False)


def label_get_visible(*, user: Any, pk: Any) -> Label:
    """The label `pk` if the caller may read it. Raises `Label.DoesNotExist` otherwise (→ 404)."""
    return label_list_visible_to(user=user).get(pk=pk)
