"""The demo school (`apps.school.demo.load`): contents, determinism, idempotency, no mail."""

import io

import pytest

from apps.school import demo
from apps.school.models import Classes
from apps.school.tests.factories import mail_callbacks
from apps.users.management.commands.demo_logins import DEMO_PASSWORD
from apps.users.models import User


@pytest.mark.django_db
def test_demo_school_is_complete_and_idempotent(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        demo.load(stdout=io.StringIO(), options={})
        first = {c.name: set(c.member.values_list("pk", flat=True)) for c in Classes.objects.all()}
        users_after_first = User.objects.count()
        demo.load(stdout=io.StringIO(), options={})

    assert len(first) == 6
    assert User.objects.count() == users_after_first  # nothing new the second time
    assert {
        c.name: set(c.member.values_list("pk", flat=True)) for c in Classes.objects.all()
    } == first
    students = User.objects.filter(username__regex=r"^stu[0-9]{4}$")
    assert students.count() == 300
    assert User.objects.filter(groups__name="teacher").count() == 4
    assert all(u.role == "student" and not u.has_usable_password() for u in students[:20])
    stu = User.objects.get(username="stu0001")
    assert stu.last_name
    assert all("\u4e00" <= ch <= "\u9fff" for ch in stu.last_name + stu.first_name)
    assert stu.last_name == demo.student_rows(1)[0]["last_name"]  # seeded: same every run
    python01 = Classes.objects.get(name="Python-01")
    assert python01.user.username == "teacher"
    assert python01.member.filter(username__in=["teacher", "student"]).count() == 2
    assert User.objects.get(username="student").check_password(DEMO_PASSWORD)
    assert mail_callbacks(callbacks) == []
    assert mailoutbox == []
