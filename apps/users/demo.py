"""Demo users for `manage.py load_demo` (`make run`): admin, teacher, student. Idempotent."""

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from apps.users.management.commands.demo_logins import DEMO_PASSWORD
from apps.users.models import STUDENT_GROUP, TEACHER_GROUP, User

DEMO_USERS = (
    # username, group, is_staff/is_superuser
    ("admin", None, True),
    ("teacher", TEACHER_GROUP, False),
    ("student", STUDENT_GROUP, False),
)


@transaction.atomic
def load(*, stdout: Any, options: dict[str, Any]) -> None:
    """Create (or repair) the three demo logins, all with password `DEMO_PASSWORD`.

    Existing accounts keep their data; their password, active flag and role are reset so the
    printed demo logins always work.
    """
    for username, group, superuser in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_active = True
        user.is_staff = user.is_superuser = superuser
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        user.save()
        if group:
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        stdout.write(f"   {'created' if created else 'kept'} {username} ({user.role})")
