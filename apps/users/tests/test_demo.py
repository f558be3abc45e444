"""`apps.users.demo.load`: the demo logins exist, have their roles, and loading twice is a no-op."""

import io

import pytest

from apps.users import demo
from apps.users.management.commands.demo_logins import DEMO_PASSWORD
from apps.users.models import User


@pytest.mark.django_db
def test_demo_users_idempotent():
    for _ in range(2):
        demo.load(stdout=io.StringIO(), options={})
    roles = {
        u.username: u.role
        for u in User.objects.filter(username__in=["admin", "teacher", "student"])
    }
    assert roles == {"admin": "staff", "teacher": "teacher", "student": "student"}
    assert User.objects.count() == 3
    assert all(u.check_password(DEMO_PASSWORD) for u in User.objects.all())
    assert User.objects.get(username="admin").is_superuser
