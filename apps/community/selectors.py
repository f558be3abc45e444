"""Reads of the community app: live articles, comment threads built in Python (API.md §2.5).

A thread page costs a constant number of queries whatever its size: one for the page of
top-level comments and one for every reply below them (`root__in=page`), both joined to
their authors; the tree is assembled in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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
    in Python (`build_threads`).
    """
    live_in_thread = Comment.objects.filter(root=OuterRef("pk"), is_delete=False)
    return Q(is_delete=False) | Q(Exists(live_in_thread))


def comment_roots(*, article: Article) -> QuerySet[Comment]:
    """Top-level comments of a live article, newest first (the page query)."""
    return (
        Comment.objects.filter(article=article, parent_comment__isnull=True)
        .filter(_visible_q())
        .select_related("user")
        .order_by("-create_time", "-id")
    )


def comment_get(*, comment_id: int) -> Comment | None:
    """A live comment of a live article, with its author and article; None if hidden."""
    return (
        Comment.objects.filter(pk=comment_id, is_delete=False, article__is_delete=False)
        .select_related("user", "article")
        .first()
    )


@dataclass
class ThreadNode:
    """A comment in a built thread: the row, its reply author's name and its children."""

    comment: Comment
    reply_username: str | None
    children: list[ThreadNode] = field(default_factory=list)


def _link(nodes: dict[int, ThreadNode], replies: Iterable[Comment]) -> None:
    """Attach each reply (oldest first) to its parent node; set `reply_username`."""
    for reply in replies:
        parent = nodes.get(reply.parent_comment_id)
        if parent is None:  # parent outside the loaded thread: cannot happen via services
            continue
        node = nodes[reply.pk]
        if not parent.comment.is_delete:
            node.reply_username = parent.comment.user.username
        parent.children.append(node)


def _prune(node: ThreadNode) -> bool:
    """Drop deleted leaves bottom-up; True if `node` stays (live, or a stub with replies)."""
    node.children = [child for child in node.children if _prune(child)]
    return not node.comment.is_delete or bool(node.children)


def build_threads(roots: Sequence[Comment]) -> list[ThreadNode]:
    """Nest every reply of `roots` (one query) under its parent, oldest first.

    Deleted comments stay only while some live comment lies below them; `reply_username`
    is the parent's author, None for top level or a deleted parent.
    """
    if not roots:
        return []
    replies = list(
        Comment.objects.filter(root_id__in=[r.pk for r in roots])
        .select_related("user")
        .order_by("create_time", "id")
    )
    nodes = {row.pk: ThreadNode(row, None) for row in [*roots, *replies]}
    _link(nodes, replies)
    return [nodes[r.pk] for r in roots if _prune(nodes[r.pk])]


def comment_subtree(*, comment: Comment) -> ThreadNode:
    """`comment` with every reply below it, nested (one query for its whole thread)."""
    root_id = comment.root_id or comment.pk
    rows = list(
        Comment.objects.filter(Q(pk=root_id) | Q(root_id=root_id))
        .select_related("user")
        .order_by("create_time", "id")
    )
    nodes = {row.pk: ThreadNode(row, None) for row in rows}
    _link(nodes, [row for row in rows if row.parent_comment_id is not None])
    node = nodes[comment.pk]
    _prune(node)
    return node
