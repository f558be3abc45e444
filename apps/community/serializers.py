"""Wire shapes of the community app (API.md §2.5). Output fields are listed, never `__all__`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework import serializers

from apps.community.models import Article, Comment
from apps.users.models import User

_datetime = serializers.DateTimeField()


def avatar_url(request: Any, user: Any) -> str | None:
    """Absolute URL of `user`'s avatar, None without one (FastDFS URLs are already absolute)."""
    if user is None or not user.avatar:
        return None
    url = user.avatar.url
    return request.build_absolute_uri(url) if request is not None else url


class ArticleSerializer(serializers.ModelSerializer):
    """Article: `{"id", "title", "content", "content_html", "page_view", "user", "user_name",
    "user_avatar", "create_time", "update_time"}`; everything but title/content is server-owned."""

    user_name = serializers.CharField(source="user.username", read_only=True)
    user_avatar = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = (
            "id", "title", "content", "content_html", "page_view", "user", "user_name",
            "user_avatar", "create_time", "update_time",
        )  # fmt: skip
        read_only_fields = (
            "id", "content_html", "page_view", "user", "create_time", "update_time",
        )  # fmt: skip

    def get_user_avatar(self, obj: Article) -> str | None:
        return avatar_url(self.context.get("request"), obj.user)


class ArticleWriteSerializer(serializers.Serializer):
    """POST/PUT/PATCH body: `title` str 1–100, `content` str 1–50 000 (Markdown)."""

    title = serializers.CharField(min_length=1, max_length=100)
    content = serializers.CharField(min_length=1, max_length=50_000, trim_whitespace=False)


class ArticleSearchQuerySerializer(serializers.Serializer):
    """`?text=&offset=&limit=` of the article search (same rules as topic search)."""

    text = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    offset = serializers.IntegerField(required=False, min_value=0, default=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["offset"] + attrs["limit"] > 10_000:
            raise serializers.ValidationError({"offset": ["offset + limit must not exceed 10000."]})
        return attrs


class ArticleSearchHitSerializer(ArticleSerializer):
    """An article search result: the Article plus `title_highlight`, `content_highlight`."""

    title_highlight = serializers.CharField(allow_null=True, read_only=True)
    content_highlight = serializers.CharField(allow_null=True, read_only=True)

    class Meta(ArticleSerializer.Meta):
        fields = (*ArticleSerializer.Meta.fields, "title_highlight", "content_highlight")


class CommentCreateSerializer(serializers.Serializer):
    """POST body: `article` id (live article), `content` 1–2000, `parent_comment` id or null."""

    article = serializers.PrimaryKeyRelatedField(queryset=Article.objects.filter(is_delete=False))
    content = serializers.CharField(min_length=1, max_length=2000)
    parent_comment = serializers.PrimaryKeyRelatedField(
        queryset=Comment.objects.filter(is_delete=False, article__is_delete=False),
        allow_null=True,
        required=False,
        default=None,
    )


class CommentSerializer(serializers.Serializer):
    """A comment node with its replies nested under `sonComments` (oldest first) — the schema of
    what `render_threads` / `render_subtree` produce (they build these dicts from rows directly).

    Live: `{"id", "article", "user", "user_name", "user_avatar", "content", "parent_comment",
    "reply_username", "create_time", "is_deleted": false, "sonComments": [...]}`.
    Deleted but with live replies below: same keys with `is_deleted: true` and `user`,
    `user_name`, `user_avatar`, `content` null.
    """

    id = serializers.IntegerField(read_only=True)
    article = serializers.IntegerField(read_only=True)
    user = serializers.IntegerField(read_only=True, allow_null=True)
    user_name = serializers.CharField(read_only=True, allow_null=True)
    user_avatar = serializers.URLField(read_only=True, allow_null=True)
    content = serializers.CharField(read_only=True, allow_null=True)
    parent_comment = serializers.IntegerField(read_only=True, allow_null=True)
    reply_username = serializers.CharField(read_only=True, allow_null=True)
    create_time = serializers.DateTimeField(read_only=True)
    is_deleted = serializers.BooleanField(read_only=True)
    sonComments = serializers.ListField(  # the contract's name
        child=serializers.DictField(),
        read_only=True,
        help_text="Replies (same shape), oldest first.",
    )


Row = tuple[Any, ...]  # a `selectors.COMMENT_ROW` tuple


def _render_rows(rows: Sequence[Row], request: Any) -> dict[int, dict[str, Any]]:
    """`{id: node dict}` of the rows to show, every kept reply appended (in row order) to its
    parent's `sonComments`.

    A row is kept when it is live or has a live comment somewhere below it (a deleted stub);
    `reply_username` is the parent's author, None for top level or a deleted parent. Avatar URLs
    are computed once per distinct file. No queries, no model instances.
    """
    parent_of = {row[0]: row[6] for row in rows}
    kept: set[int] = set()
    for row in rows:
        if not row[8]:  # live: it and every ancestor stay
            pk = row[0]
            while pk is not None and pk not in kept:
                kept.add(pk)
                pk = parent_of.get(pk)
    author = {row[0]: None if row[8] else row[3] for row in rows}
    avatars: dict[str, str | None] = {}
    storage = User._meta.get_field("avatar").storage
    when = _datetime.to_representation
    nodes: dict[int, dict[str, Any]] = {}
    for pk, article_id, user_id, username, avatar, content, parent_id, created, deleted in rows:
        if pk not in kept:
            continue
        if deleted:
            user_id = username = content = avatar_link = None
        elif not avatar:
            avatar_link = None
        elif avatar in avatars:
            avatar_link = avatars[avatar]
        else:
            url = storage.url(avatar)
            avatar_link = avatars[avatar] = (
                request.build_absolute_uri(url) if request is not None else url
            )
        nodes[pk] = {
            "id": pk,
            "article": article_id,
            "user": user_id,
            "user_name": username,
            "user_avatar": avatar_link,
            "content": content,
            "parent_comment": parent_id,
            "reply_username": author.get(parent_id) if parent_id is not None else None,
            "create_time": when(created),
            "is_deleted": deleted,
            "sonComments": [],
        }
    for node in nodes.values():
        parent = nodes.get(node["parent_comment"]) if node["parent_comment"] is not None else None
        if parent is not None:
            parent["sonComments"].append(node)
    return nodes


def render_threads(roots: Sequence[Row], replies: Sequence[Row], request: Any) -> list[dict]:
    """The wire shape of a thread page (API.md §2.5): each top-level row of `roots` (page order,
    newest first) that is live or has a live reply, with `replies` (oldest first) nested under
    `sonComments`. See `CommentSerializer` for a node's keys."""
    nodes = _render_rows([*roots, *replies], request)
    return [nodes[row[0]] for row in roots if row[0] in nodes]


def render_subtree(rows: Sequence[Row], comment_id: int, request: Any) -> dict[str, Any]:
    """Comment `comment_id` (live) with every reply below it, from its whole thread's `rows`."""
    return _render_rows(rows, request)[comment_id]
