"""Demo school for `manage.py load_demo` (`make run`): 4 teachers, 6 classes, 300 students.

Idempotent (re-running changes nothing) and fast on SQLite (bulk inserts, no password hashing,
no mail). Student names come from Faker("zh_CN") with a fixed seed, so every run yields the
same people: usernames `stu0001`..`stu0300`, e-mail `<username>@example.com`.
The demo logins `teacher` (owner of two classes) and `student` (a member of the first class)
keep the password `DEMO_PASSWORD`; every other demo account has an unusable password.
"""

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from faker import Faker

from apps.school import services
from apps.school.models import Classes
from apps.users.management.commands.demo_logins import DEMO_PASSWORD
from apps.users.models import STUDENT_GROUP, TEACHER_GROUP, User

SEED = 20240501
STUDENTS = 300
TEACHERS = (  # username, last_name, first_name
    ("teacher", "张", "老师"),
    ("t_wang", "王", "建国"),
    ("t_li", "李", "秀英"),
    ("t_chen", "陈", "静"),
)
CLASSES = (  # name, owner username, slogan
    ("Python-01", "teacher", "人生苦短，我用 Python"),
    ("数据结构-01", "teacher", "程序 = 数据结构 + 算法"),
    ("Java-01", "t_wang", "一次编写，到处运行"),
    ("Web前端-01", "t_wang", "所见即所得"),
    ("数据库-01", "t_li", "SELECT * FROM 知识"),
    ("算法-01", "t_chen", None),
)


def _demo_login(username: str, group: str) -> User:
    """Get or create a demo login with `DEMO_PASSWORD` (hashed only when it differs)."""
    user, _created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def _teacher(username: str, last_name: str, first_name: str) -> User:
    if username == "teacher":
        return _demo_login(username, TEACHER_GROUP)
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": f"{username}@example.com",
            "last_name": last_name,
            "first_name": first_name,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=TEACHER_GROUP)[0])
    return user


def student_rows(count: int = STUDENTS) -> list[dict[str, str]]:
    """`count` deterministic students `{"username", "email", "first_name", "last_name"}`."""
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    return [
        {
            "username": f"stu{i:04d}",
            "email": f"stu{i:04d}@example.com",
            "first_name": fake.first_name(),
            "last_name": fake.last_name(),
        }
        for i in range(1, count + 1)
    ]


@transaction.atomic
def load(*, stdout: Any, options: dict[str, Any]) -> None:
    """Create (or complete) the demo school; prints one line per class."""
    teachers = {t[0]: _teacher(*t) for t in TEACHERS}
    demo_student = _demo_login("student", STUDENT_GROUP)
    rows = student_rows()
    per_class = len(rows) // len(CLASSES)
    for index, (name, owner, slogan) in enumerate(CLASSES):
        classes = Classes.objects.filter(name=name, user=teachers[owner], is_delete=False).first()
        if classes is None:
            classes = services.classes_create(user=teachers[owner], name=name, slogan=slogan)
        co_teacher = teachers[TEACHERS[(index + 1) % len(TEACHERS)][0]]
        classes.member.add(co_teacher)
        if index == 0:
            classes.member.add(demo_student)
        chunk = rows[index * per_class : (index + 1) * per_class]
        result = services.students_enrol_quietly(classes=classes, rows=chunk)
        stdout.write(
            f"   class {name}: {classes.member.count()} members "
            f"({result['created']} students created)"
        )
