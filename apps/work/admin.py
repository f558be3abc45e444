"""Admin pages for labels and topics (options inline). Writes go through the services."""

from django.contrib import admin

from apps.work import services
from apps.work.models import Label, Topic, TopicOption


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    """Labels with their exam flag and owner."""

    list_display = ("id", "name", "is_exam", "user", "update_time")
    list_filter = ("is_exam",)
    search_fields = ("name",)
    raw_id_fields = ("user",)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        reindex = change and bool({"name", "is_exam"} & set(form.changed_data))
        services.after_admin_write(label_id=obj.pk if reindex else None)

    def delete_model(self, request, obj) -> None:
        services.label_delete(label=obj)


class TopicOptionInline(admin.TabularInline):
    """The options of a choice topic."""

    model = TopicOption
    extra = 0


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """Topics (soft-deleted ones included, with the flag shown); options inline."""

    list_display = ("id", "short_subject", "type", "label", "user", "is_delete", "update_time")
    list_filter = ("type", "is_delete", "label__is_exam")
    search_fields = ("subject",)
    raw_id_fields = ("user", "label")
    inlines = (TopicOptionInline,)
    list_select_related = ("label", "user")

    @admin.display(description="题干")
    def short_subject(self, obj: Topic) -> str:
        return obj.subject[:60]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.after_admin_write(topic_id=form.instance.pk)

    def delete_model(self, request, obj) -> None:
        services.topic_delete(topic=obj)
