"""Community: Markdown articles and threaded comments (API.md §2.5, §3)."""

from django.conf import settings
from django.db import models

from utils.models import ModelsSetMixin

MAX_COMMENT_DEPTH = 8  # a top-level comment has depth 1; replying to depth 8 is refused


class Article(ModelsSetMixin):
    """A user's article. `content` is Markdown; `content_html` is its sanitised rendering.

    `page_view` is the flushed view count; pending increments may still sit in Redis
    (`apps.community.pageviews`).
    """

    title = models.CharField(max_length=100, verbose_name="标题")
    content = models.TextField(verbose_name="内容(Markdown)")
    content_html = models.TextField(blank=True, default="", verbose_name="内容(HTML)")
    page_view = models.PositiveIntegerField(default=0, verbose_name="浏览量")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="articles",
        verbose_name="作者",
    )

    class Meta:
        db_table = "article"
        verbose_name = "文章"
        verbose_name_plural = verbose_name
        ordering = ["-create_time", "-id"]
        indexes = [models.Index(fields=["user", "create_time"], name="article_user_time")]

    def __str__(self) -> str:
        return self.title


class Comment(ModelsSetMixin):
    """A comment on an article, or a reply (`parent_comment`) to one of the same article.

    `root` (the thread's top-level comment; null for top-level comments) and `depth`
    (1 = top level) are set on create so a whole thread loads in one query.
    """

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="comments", verbose_name="文章"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="comments",
        verbose_name="评论者",
    )
    content = models.CharField(max_length=2000, verbose_name="内容")
    parent_comment = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name="回复的评论",
    )
    root = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="thread",
        verbose_name="所属顶层评论",
    )
    depth = models.PositiveSmallIntegerField(default=1, verbose_name="层级")

    class Meta:
        db_table = "comment"
        verbose_name = "评论"
        verbose_name_plural = verbose_name
        ordering = ["-create_time", "-id"]
        indexes = [
            models.Index(fields=["article", "parent_comment", "create_time"], name="comment_top"),
        ]

    def __str__(self) -> str:
        return self.content[:30]
