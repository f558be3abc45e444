"""Object rules for classes (API.md §2.2); visibility itself lives in `selectors`."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.users.roles import is_staff, is_teacher


class ClassesPermission(BasePermission):
    """Create: teachers. Read: anyone who can see the class (the queryset hides the rest → 404).

    Update/delete: the owner or staff (other members → 403). Enrol: a teacher member or staff.
    """

    def has_permission(self, request, view) -> bool:
        if view.action == "create":
            return is_teacher(request.user)
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if view.action == "enrol":
            return is_teacher(request.user)
        if request.method in SAFE_METHODS:
            return True
        return is_staff(request.user) or obj.user_id == request.user.pk
