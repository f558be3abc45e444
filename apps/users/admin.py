"""Admin pages for users, areas and addresses."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.users.models import Address, Area, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus `mobile` and `avatar`; role shown from groups."""

    list_display = ("username", "email", "first_name", "last_name", "role", "is_active", "is_staff")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "email", "first_name", "last_name", "mobile")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("资料", {"fields": ("mobile", "avatar")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="角色")
    def role(self, obj: User) -> str:
        return obj.role


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    """Administrative divisions (loaded by `manage.py load_areas`; read-mostly)."""

    list_display = ("id", "name", "parent")
    search_fields = ("=id", "name")
    raw_id_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    """Delivery addresses of all users (soft-deleted ones included, flagged by `is_delete`)."""

    list_display = (
        "id",
        "user",
        "receiver",
        "province",
        "city",
        "district",
        "is_default",
        "is_delete",
    )
    list_filter = ("is_default", "is_delete")
    search_fields = ("user__username", "receiver", "mobile", "place")
    raw_id_fields = ("user", "province", "city", "district")
    list_select_related = ("user", "province", "city", "district")
