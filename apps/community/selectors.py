"""Reads of the community app: live articles, comment threads built in Python (API.md §2.5).

A thread page costs a constant number of queries whatever its size: one for the page of
top-level comments and one for every reply below them (`root__in=page`), both joined to
their authors and read as `values()` rows; the tree is assembled in memory
(`apps.community.serializers.render_threads`) without building model instances.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.community.models import Article, Comment


def article_list(*, user_id: int | None = None) -> QuerySet[Article]:
    """Live articles, newest first, with their authors; `user_id` filters by author."""
    qs = Article.objects.filter(is_delete=False).select_related("user")
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    return qs.order_by("-create_time", "-id")


def article_page_views(article_ids: Iterable[int]) -> dict[int, int]:
    """`{id: page_view}` as stored in the rows (flushed counts only). One query."""
    return dict(Article.objects.filter(pk__in=list(article_ids)).values_list("id", "page_view"))


def _visible_q() -> Q:
    """Live comments, and deleted ones that still have a live reply somewhere below them.

    For a top-level comment "below" is its whole thread (`root`); deeper stubs are pruned
    in Python (`apps.community.serializers.render_threads`).
    """
    live_in_thread = Comment.objects.filter(root=OuterRef("pk"), is_delete=False)
    return Q(is_delete=False) | Q(Exists(live_in_thread))


COMMENT_ROW = (
    "id", "article_id", "user_id", "user__username", "user__avatar", "content",
    "parent_comment_id", "create_time", "is_delete",
)  # fmt: skip
"""Columns of a comment row (`values_list()` tuple), its author's name and avatar joined in."""


def comment_roots(*, article: Article) -> QuerySet:
    """Top-level comments of a live article, newest first (the page query), as `COMMENT_ROW`
    tuples — no model instances: a thread page is rendered straight from rows."""
    return (
        Comment.objects.filter(article=article, parent_comment__isnull=True)
        .filter(_visible_q())
        .order_by("-create_time", "-id")
        .values_list(*COMMENT_ROW)
    )


def thread_replies(*, root_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Every reply (live or deleted) below the top-level comments `root_ids`, oldest first,
    as `COMMENT_ROW` tuples. One query whatever the threads' size."""
    if not root_ids:
        return []
    return list(
        Comment.objects.filter(root_id__in=list(root_ids))
        .order_by("create_time", "id")
        .values_list(*COMMENT_ROW)
    )


def thread_rows(*, comment: Comment) -> list[tuple[Any, ...]]:
    """The whole thread of `comment` (its top-level comment and every reply), oldest first,
    as `COMMENT_ROW` tuples. One query."""
    root_id = comment.root_id or comment.pk
    return list(
        Comment.objects.filter(Q(pk=root_id) | Q(root_id=root_id))
        .order_by("create_time", "id")
        .values_list(*COMMENT_ROW)
    )


def comment_get(*, comment_id: int) -> Comment | None:
    """A live comment of a live article, with its author and article; None if hidden."""
    return (
        Comment.objects.filter(pk=comment_id, is_delete=False, article__is_delete=False)
        .select_related("user", "article")
        .first()
    )
