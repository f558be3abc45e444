"""School services: register-student (shared with `POST /api/users/users/`) and classes writes."""

import pytest

from apps.school import services
from apps.school.models import Classes
from apps.school.tests.factories import ClassesFactory, mail_callbacks
from apps.users.models import User
from apps.users.tests.factories import StudentFactory, TeacherFactory


@pytest.fixture
def klass(teacher, student):
    return ClassesFactory(user=teacher, members=[student])


@pytest.mark.django_db
def test_student_register_creates_a_student_and_mails_after_commit(
    klass, teacher, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user = services.student_register(
            by=teacher, username="xiaoming", email="xm@example.com", first_name="明", classes=klass
        )

    assert len(mail_callbacks(callbacks)) == 1
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert user.role == "student"
    assert user.first_name == "明"
    assert klass.member.filter(pk=user.pk).exists()
    assert [m.to for m in mailoutbox] == [["xm@example.com"]]
    assert "/set-password?uid=" in mailoutbox[0].body


@pytest.mark.django_db
def test_student_register_accepts_a_class_id_and_staff_any_class(klass, staff):
    user = services.student_register(
        by=staff, username="byid", email="byid@example.com", classes=klass.pk
    )
    assert klass.member.filter(pk=user.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"username": "student1"}, "username"), ({"username": "bad name"}, "username"),
     ({"email": "nope"}, "email"), ({"first_name": "x" * 151}, "first_name"),
     ({"username": ""}, "username")],
)  # fmt: skip
def test_student_register_field_errors_write_nothing(klass, teacher, kwargs, field):
    before = User.objects.count()
    params = {"username": "fresh", "email": "fresh@example.com", **kwargs}

    with pytest.raises(services.EnrolmentError) as exc:
        services.student_register(by=teacher, classes=klass, **params)

    assert list(exc.value.errors) == [field]
    assert exc.value.status_code == 400
    assert User.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["member_student", "outsider_teacher", "deleted_class"])
def test_student_register_class_not_enrollable(klass, who):
    by = {
        "member_student": klass.member.get(username="student1"),
        "outsider_teacher": TeacherFactory(username="outsider_t"),
        "deleted_class": klass.user,
    }[who]
    if who == "deleted_class":
        Classes.objects.filter(pk=klass.pk).update(is_delete=True)

    with pytest.raises(services.EnrolmentError) as exc:
        services.student_register(by=by, username="x1", email="x1@example.com", classes=klass.pk)

    assert list(exc.value.errors) == ["classes"]
    assert str(klass.pk) in exc.value.errors["classes"][0]
    assert not User.objects.filter(username="x1").exists()


@pytest.mark.django_db
def test_enrol_students_counts_partition_rows(klass, teacher):
    old = StudentFactory(username="old", email="old@example.com")
    rows = [
        {"username": "n1", "email": "n1@example.com"},
        {"username": "old", "email": "old@example.com"},
        {"username": "student1", "email": "student1@example.com"},
    ]
    result = services.enrol_students(classes=klass, rows=rows, by=teacher)
    assert result == {"created": 1, "added": 1, "already_member": 1}
    assert klass.member.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_enrol_students_quietly_sends_no_mail(
    klass, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.students_enrol_quietly(
            classes=klass, rows=[{"username": "q1", "email": "q1@example.com"}]
        )
    assert mail_callbacks(callbacks) == []
    assert mailoutbox == []
    assert klass.member.filter(username="q1").exists()


@pytest.mark.django_db
def test_classes_create_always_adds_the_owner(teacher, student):
    klass = services.classes_create(user=teacher, name="c", member=[student.pk])
    assert set(klass.member.values_list("pk", flat=True)) == {teacher.pk, student.pk}


@pytest.mark.django_db
def test_classes_update_keeps_owner_when_members_replaced(klass, teacher):
    services.classes_update(classes=klass, member=[], fields=["member"])
    assert list(klass.member.values_list("pk", flat=True)) == [teacher.pk]
