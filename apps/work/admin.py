"""Admin pages for labels and topics (options inline). Writes and deletes go through the services:
a delete (one object or "delete selected") soft-deletes topics and bumps caches/unindexes after
commit exactly as the API does; a label still used by topics is refused with an error message."""

from django.contrib import admin, messages
from django.db import router, transaction
from django.http import HttpResponseRedirect

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
        services.label_delete(label=obj)  # LabelInUse → message (delete_view)

    def delete_queryset(self, request, queryset) -> None:
        """All or nothing: LabelInUse for any label undoes the others (changelist_view)."""
        for label in queryset:
            services.label_delete(label=label)

    def _refuse_in_use(self, request, view, *args, **kwargs):
        # Django's protected-objects check normally stops a used label first; this covers a topic
        # added since then. The atomic block also undoes the deletion log entries.
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return view(request, *args, **kwargs)
        except services.LabelInUse as exc:
            used_by = exc.extra.get("topics")
            self.message_user(
                request, f"Nothing deleted: {exc.message} (topics: {used_by})", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        return self._refuse_in_use(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        return self._refuse_in_use(request, super().changelist_view, extra_context)


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

    def delete_queryset(self, request, queryset) -> None:
        """Soft-delete every selected topic through the service (one transaction)."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            for topic in queryset:
                services.topic_delete(topic=topic)
