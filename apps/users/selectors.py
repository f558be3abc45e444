"""Read-side of the users app: who may see which users, addresses, areas (API.md §2.1)."""

from django.db.models import Q, QuerySet

from apps.users.models import Address, Area, User
from apps.users.roles import is_staff, is_teacher


def _shared_class_user_ids(*, user: User) -> QuerySet:
    """Ids of users who share at least one live class with `user` (school app's Classes)."""
    from apps.school.models import Classes  # lazy: the school app builds on users

    classes = Classes.objects.filter(member=user, is_delete=False).values("pk")
    return User.objects.filter(classes_joined__in=classes).values("pk")


def user_list_visible_to(*, user: User) -> QuerySet[User]:
    """Users listed for the caller: staff → all; teacher → users sharing ≥1 live class with
    them; others → none (the view answers 403 before). Groups prefetched; ordered by id."""
    users = User.objects.prefetch_related("groups").order_by("id")
    if is_staff(user):
        return users
    if is_teacher(user):
        return users.filter(pk__in=_shared_class_user_ids(user=user))
    return users.none()


def user_detail_visible_to(*, user: User) -> QuerySet[User]:
    """Users the caller may open: self, plus (teachers) users sharing a class, (staff) all."""
    users = User.objects.prefetch_related("groups")
    if is_staff(user):
        return users
    if is_teacher(user):
        return users.filter(Q(pk=user.pk) | Q(pk__in=_shared_class_user_ids(user=user)))
    return users.filter(pk=user.pk)


def address_list_for_user(*, user: User) -> QuerySet[Address]:
    """The caller's live addresses, default first, then most recently updated; areas joined."""
    return Address.objects.filter(user=user, is_delete=False).select_related(
        "province", "city", "district"
    )


AREA_CACHE_NAMESPACE = "users:area"  # response-cache version of area bodies (`load_areas` bumps it)


def area_provinces() -> QuerySet[Area]:
    """Provinces (`parent` null), by division code."""
    return Area.objects.filter(parent__isnull=True).order_by("id")


def area_with_subs() -> QuerySet[Area]:
    """Areas with their direct subdivisions prefetched (ordered by code)."""
    from django.db.models import Prefetch

    return Area.objects.prefetch_related(
        Prefetch("subs", queryset=Area.objects.order_by("id").only("id", "name", "parent_id"))
    )


def user_get_full(*, pk: int) -> User:
    """The whole user row with its groups prefetched (request.user is a cached partial row)."""
    return User.objects.prefetch_related("groups").get(pk=pk)
