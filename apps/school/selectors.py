"""Reads of the school app: the one visibility policy for classes (API.md §2.2)."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from apps.school.models import Classes
from apps.users.roles import is_staff, is_teacher

User = get_user_model()


def member_prefetch() -> Prefetch:
    """`Prefetch("member")` of members ordered by id, each with its `groups` prefetched.

    With it, `classes.member.all()` and every member's `role` cost no further query: a page of
    classes with all their members is 3 queries (classes, members, members' groups) whatever
    the class sizes.
    """
    members = (
        User.objects.only("id", "username", "avatar", "is_staff", "is_superuser")
        .prefetch_related("groups")
        .order_by("id")
    )
    return Prefetch("member", queryset=members)


def classes_list_visible_to(*, user) -> QuerySet[Classes]:
    """Live classes the caller may read: staff all, everyone else those they are a member of.

    Newest first (`-create_time`, `-id`); members (with groups) prefetched. Source: DB.
    """
    classes = Classes.objects.filter(is_delete=False)
    if not is_staff(user):
        members = Classes.member.through.objects.filter(user_id=user.pk)
        classes = classes.filter(pk__in=members.values("classes_id"))
    return classes.select_related("user").prefetch_related(member_prefetch())


def classes_last_visible_to(*, user) -> Classes | None:
    """The most recently created live class visible to the caller, or None. Source: DB."""
    return classes_list_visible_to(user=user).order_by("-create_time", "-id").first()


def classes_enrollable_by(*, user) -> QuerySet[Classes]:
    """Live classes `user` may enrol students into: teachers their own memberships, staff all.

    Students and plain users get an empty queryset. No prefetch (used for existence checks).
    """
    if not is_teacher(user):
        return Classes.objects.none()
    classes = Classes.objects.filter(is_delete=False)
    if is_staff(user):
        return classes
    members = Classes.member.through.objects.filter(user_id=user.pk)
    return classes.filter(pk__in=members.values("classes_id"))
