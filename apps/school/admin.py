"""Admin for classes: members by raw id (classes can hold thousands of students)."""

from django.contrib import admin

from apps.school import services
from apps.school.models import Classes


@admin.register(Classes)
class ClassesAdmin(admin.ModelAdmin):
    """Classes with owner and members as raw-id widgets; soft delete via the service."""

    list_display = ("id", "name", "user", "is_delete", "create_time")
    list_filter = ("is_delete",)
    search_fields = ("name", "user__username")
    raw_id_fields = ("user", "member")
    readonly_fields = ("create_time", "update_time")
    list_select_related = ("user",)
    actions = ["soft_delete"]

    @admin.action(description="Soft-delete the selected classes")
    def soft_delete(self, request, queryset) -> None:
        for classes in queryset:
            services.classes_delete(classes=classes)
