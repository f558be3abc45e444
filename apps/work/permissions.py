"""Permissions of the question bank (API.md §2.3, §2.4)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.users.roles import is_staff, is_teacher


class TopicAccess(BasePermission):
    """Reads: any authenticated user (visibility is the selector's job). Writes: teachers only;
    object writes: the owner or staff (other teachers → 403)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or is_teacher(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return is_staff(request.user) or obj.user_id == request.user.pk
