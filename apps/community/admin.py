"""Admin pages for articles and comments (soft-deleted rows shown with a filter)."""

from django.contrib import admin

from apps.community.models import Article, Comment
from apps.community.services import CACHE_NAMESPACE, render_markdown
from utils import cache as response_cache


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Articles: search by title/author; `content_html` and counters are read-only."""

    list_display = ("id", "title", "user", "page_view", "is_delete", "create_time")
    list_filter = ("is_delete",)
    search_fields = ("title", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("content_html", "page_view", "create_time", "update_time")
    raw_id_fields = ("user",)

    def save_model(self, request, obj: Article, form, change: bool) -> None:
        """Re-render `content_html` and invalidate cached article bodies, as the API does."""
        obj.content_html = render_markdown(obj.content)
        super().save_model(request, obj, form, change)
        response_cache.bump(CACHE_NAMESPACE)

    def delete_model(self, request, obj: Article) -> None:
        super().delete_model(request, obj)
        response_cache.bump(CACHE_NAMESPACE)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Comments: thread position (`root`, `depth`) is read-only (set by the service)."""

    list_display = ("id", "article", "user", "short_content", "depth", "is_delete", "create_time")
    list_filter = ("is_delete",)
    search_fields = ("content", "user__username", "article__title")
    list_select_related = ("user", "article")
    readonly_fields = ("root", "depth", "create_time", "update_time")
    raw_id_fields = ("article", "user", "parent_comment")

    @admin.display(description="内容")
    def short_content(self, obj: Comment) -> str:
        return obj.content[:40]
