"""Wire shapes of the community app (API.md §2.5). Output fields are listed, never `__all__`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.community.models import Article, Comment
from apps.community.selectors import ThreadNode

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
    """A comment node with its replies nested under `sonComments` (oldest first).

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

    def to_representation(self, node: ThreadNode) -> dict[str, Any]:
        """Render the node and its children (one recursive pass, no queries)."""
        request = self.context.get("request")
        return _node_data(node, request)


def _node_data(node: ThreadNode, request: Any) -> dict[str, Any]:
    comment = node.comment
    deleted = comment.is_delete
    return {
        "id": comment.pk,
        "article": comment.article_id,
        "user": None if deleted else comment.user_id,
        "user_name": None if deleted else comment.user.username,
        "user_avatar": None if deleted else avatar_url(request, comment.user),
        "content": None if deleted else comment.content,
        "parent_comment": comment.parent_comment_id,
        "reply_username": node.reply_username,
        "create_time": _datetime.to_representation(comment.create_time),
        "is_deleted": deleted,
        "sonComments": [_node_data(child, request) for child in node.children],
    }
