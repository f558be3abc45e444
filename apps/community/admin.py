"""Admin pages for articles and comments (soft-deleted rows shown with a filter).

Saves and deletes go through the services, as the API's writes do: a delete (one object or
"delete selected") soft-deletes, and article writes bump the cached article bodies now and after
commit and resync the search index after commit.
"""

from django.contrib import admin
from django.db import router, transaction

from apps.community import services
from apps.community.models import Article, Comment


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
        """Re-render `content_html`; caches and search index follow as for an API write."""
        obj.content_html = services.render_markdown(obj.content)
        super().save_model(request, obj, form, change)
        services.after_admin_write(article_id=obj.pk)

    def delete_model(self, request, obj: Article) -> None:
        services.article_delete(article=obj)

    def delete_queryset(self, request, queryset) -> None:
        """Soft-delete every selected article through the service (one transaction)."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            for article in queryset:
                services.article_delete(article=article)


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

    def delete_model(self, request, obj: Comment) -> None:
        services.comment_delete(comment=obj)

    def delete_queryset(self, request, queryset) -> None:
        """Soft-delete every selected comment through the service (replies stay, as in the API)."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            for comment in queryset:
                services.comment_delete(comment=comment)
