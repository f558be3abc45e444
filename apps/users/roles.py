"""Role resolution and DRF permissions shared by every app (API.md §1.3)."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission


def role_of(user: Any) -> str:
    """`anon`, `user`, `student`, `teacher` or `staff` for any request user."""
    if not user or not user.is_authenticated:
        return "anon"
    return user.role


def is_teacher(user: Any) -> bool:
    """Teacher or staff ("teacher or above")."""
    return role_of(user) in ("teacher", "staff")


def is_staff(user: Any) -> bool:
    """`is_staff` or `is_superuser`."""
    return role_of(user) == "staff"


class IsTeacher(BasePermission):
    """Allow teachers and staff."""

    def has_permission(self, request, view) -> bool:
        return is_teacher(request.user)


class IsStaff(BasePermission):
    """Allow staff only."""

    def has_permission(self, request, view) -> bool:
        return is_staff(request.user)


class IsTeacherOrReadOnly(BasePermission):
    """Anyone authenticated reads; teachers and staff write."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_teacher(request.user)


class IsOwnerOrStaffForWrite(BasePermission):
    """Object writes only by its `user` (owner) or staff; reads by anyone who can see it → 403."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return is_staff(request.user) or getattr(obj, "user_id", None) == request.user.pk
