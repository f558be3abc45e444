"""Permissions of the shopping app."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.users.roles import is_staff


class IsStaffOrReadOnly(BasePermission):
    """Authenticated users read commodities; staff write them (API.md §2.6)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or is_staff(request.user)
