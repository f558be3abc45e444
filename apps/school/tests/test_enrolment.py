"""Enrolment `POST /api/school/classes/{id}/enrol/` (API.md §2.2): CSV/JSON, errors, idempotency."""

import io
import threading
import time

import pytest
from django.contrib.auth.models import Group
from rest_framework.throttling import ScopedRateThrottle

from apps.school import services
from apps.school.tests.factories import ClassesFactory, mail_callbacks
from apps.users.models import STUDENT_GROUP, User
from apps.users.tests.factories import StudentFactory, TeacherFactory, UserFactory


def enrol_url(pk: int) -> str:
    return f"/api/school/classes/{pk}/enrol/"


def csv_file(text: str, *, bom: bool = False, name: str = "students.csv") -> io.BytesIO:
    data = ("\ufeff" if bom else "") + text
    f = io.BytesIO(data.encode("utf-8"))
    f.name = name
    return f


def post_csv(client, pk: int, text: str, **kwargs):
    return client.post(enrol_url(pk), {"file": csv_file(text, **kwargs)}, format="multipart")


@pytest.fixture
def klass(teacher, student):
    return ClassesFactory(user=teacher, members=[student])


def _non_members_count(klass) -> int:
    return klass.member.count()


# --- who may enrol -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("member_teacher", 200), ("staff", 200), ("member_student", 403),
     ("outsider_teacher", 404), ("outsider_student", 404)],
)  # fmt: skip
def test_enrol_role_matrix(client_for, klass, staff, who, expected):
    member_teacher = TeacherFactory(username="member_t")
    klass.member.add(member_teacher)
    users = {
        "owner": klass.user,
        "member_teacher": member_teacher,
        "staff": staff,
        "member_student": klass.member.get(username="student1"),
        "outsider_teacher": TeacherFactory(username="outsider_t"),
        "outsider_student": StudentFactory(username="outsider_s"),
    }
    body = {"students": [{"username": "newkid", "email": "newkid@example.com"}]}

    response = client_for(users[who]).post(enrol_url(klass.pk), body, format="json")

    assert response.status_code == expected
    assert User.objects.filter(username="newkid").exists() is (expected == 200)


@pytest.mark.django_db
def test_enrol_anonymous_401(api_client, klass):
    response = api_client.post(enrol_url(klass.pk), {"students": []}, format="json")
    assert response.status_code == 401


# --- CSV -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_csv_with_bom_creates_students_with_unusable_passwords(
    client_for, klass, mailoutbox, django_capture_on_commit_callbacks
):
    text = "username,email,first_name,last_name\r\nzhangsan,zs@example.com,三,张\r\nlisi,ls@example.com,四,李\r\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = post_csv(client_for(klass.user), klass.pk, text, bom=True)

    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 2, "added": 0, "already_member": 0}
    zs = User.objects.get(username="zhangsan")
    assert (zs.email, zs.first_name, zs.last_name) == ("zs@example.com", "三", "张")
    assert not zs.has_usable_password()
    assert zs.role == "student"
    assert klass.member.filter(username__in=["zhangsan", "lisi"]).count() == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["ls@example.com", "zs@example.com"]


@pytest.mark.django_db
def test_csv_two_columns(client_for, klass):
    response = post_csv(client_for(klass.user), klass.pk, "username,email\nwangwu,ww@example.com\n")
    assert response.json() == {"created": 1, "added": 0, "already_member": 0}


@pytest.mark.django_db
def test_csv_bad_rows_report_line_numbers_and_write_nothing(
    client_for, klass, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(username="taken", email="owner@example.com")
    members_before = set(klass.member.values_list("pk", flat=True))
    users_before = User.objects.count()
    text = (
        "username,email,first_name,last_name\n"
        "good1,good1@example.com,,\n"  # line 2: fine
        "bad name!,x@example.com,,\n"  # line 3: username rules
        "good2,not-an-email,,\n"  # line 4: e-mail
        "\n"  # line 5: blank, skipped
        "good1,again@example.com,,\n"  # line 6: duplicate of line 2
        "taken,other@example.com,,\n"  # line 7: existing username, another e-mail
        ",nobody@example.com,,\n"  # line 8: username missing
        "good3,g3@example.com,a,b,extra\n"  # line 9: too many columns
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_csv(client_for(klass.user), klass.pk, text)

    assert mail_callbacks(callbacks) == []
    assert response.status_code == 400
    rows = response.json()["rows"]
    assert list(response.json()) == ["rows"]
    assert set(rows) == {"3", "4", "6", "7", "8", "9"}
    assert list(rows["3"]) == ["username"]
    assert list(rows["4"]) == ["email"]
    assert "2" in rows["6"]["username"][0]  # points at the first occurrence
    assert list(rows["7"]) == ["email"]
    assert list(rows["8"]) == ["username"]
    assert list(rows["9"]) == ["non_field_errors"]
    assert User.objects.count() == users_before  # nothing written
    assert not User.objects.filter(username__startswith="good").exists()
    assert set(klass.member.values_list("pk", flat=True)) == members_before
    assert mailoutbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "header"), (b"name,mail\nx,y@example.com\n", "header"),
     ("username,email\nzh,\u00e9@example.com\n".encode("latin-1"), "UTF-8"),
     (b"username,email\n", "least one")],
)  # fmt: skip
def test_csv_file_errors(client_for, klass, content, fragment):
    upload = io.BytesIO(content)
    upload.name = "s.csv"
    response = client_for(klass.user).post(
        enrol_url(klass.pk), {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert fragment in response.json()["file"][0]


@pytest.mark.django_db
def test_csv_over_2000_rows_is_rejected(client_for, klass):
    lines = "".join(f"u{i},u{i}@example.com\n" for i in range(2001))
    response = post_csv(client_for(klass.user), klass.pk, "username,email\n" + lines)
    assert response.status_code == 400
    assert "2000" in response.json()["file"][0]
    assert not User.objects.filter(username="u0").exists()


@pytest.mark.django_db
def test_csv_500_rows(
    client_for, klass, mailoutbox, record_property, django_capture_on_commit_callbacks
):
    lines = "".join(f"stu{i:04d},stu{i:04d}@example.com,名{i},姓\n" for i in range(500))
    client = client_for(klass.user)

    with django_capture_on_commit_callbacks(execute=True):
        started = time.perf_counter()
        response = post_csv(client, klass.pk, "username,email,first_name,last_name\n" + lines)
        elapsed = time.perf_counter() - started
    record_property("enrol_500_seconds", round(elapsed, 3))
    print(f"\n500-row CSV enrolment took {elapsed:.3f} s (mail tasks run after the timer)")  # noqa: T201

    assert response.status_code == 200
    assert response.json() == {"created": 500, "added": 0, "already_member": 0}
    assert klass.member.filter(username__startswith="stu0").count() == 500
    student_group = Group.objects.get(name=STUDENT_GROUP)
    assert student_group.user_set.filter(username__startswith="stu0").count() == 500
    assert len(mailoutbox) == 500


# --- JSON ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_enrolment_is_idempotent(
    client_for, klass, mailoutbox, django_capture_on_commit_callbacks
):
    existing = StudentFactory(username="old", email="old@example.com")
    body = {
        "students": [
            {"username": "new1", "email": "new1@example.com", "first_name": "一"},
            {"username": "new2", "email": "new2@example.com"},
            {"username": "old", "email": "OLD@example.com"},  # same e-mail, other case
            {"username": "student1", "email": "student1@example.com"},  # already a member
        ]
    }
    client = client_for(klass.user)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(enrol_url(klass.pk), body, format="json")
    mails_after_first = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(enrol_url(klass.pk), body, format="json")

    assert first.status_code == 200
    assert first.json() == {"created": 2, "added": 1, "already_member": 1}
    assert second.json() == {"created": 0, "added": 0, "already_member": 4}
    assert mails_after_first == 2
    assert len(mailoutbox) == 2  # no mail for the re-send
    assert klass.member.filter(pk=existing.pk).exists()
    assert User.objects.filter(username__in=["new1", "new2"]).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "students"), ({"students": []}, "students"), ({"students": "x"}, "students")],
)
def test_json_body_errors(client_for, klass, body, field):
    response = client_for(klass.user).post(enrol_url(klass.pk), body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.django_db
def test_json_row_errors_are_numbered_from_one(client_for, klass):
    body = {"students": [{"username": "ok", "email": "ok@example.com"}, "not an object", {}]}
    response = client_for(klass.user).post(enrol_url(klass.pk), body, format="json")
    assert response.status_code == 400
    rows = response.json()["rows"]
    assert set(rows) == {"2", "3"}
    assert set(rows["3"]) == {"username", "email"}
    assert not User.objects.filter(username="ok").exists()


@pytest.mark.django_db
def test_enrol_is_throttled_with_scope_enrol(client_for, klass, monkeypatch):
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "enrol": "2/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    client = client_for(klass.user)
    body = {"students": [{"username": "same", "email": "same@example.com"}]}

    codes = [client.post(enrol_url(klass.pk), body, format="json").status_code for _ in range(3)]

    assert codes == [200, 200, 429]


# --- concurrency (MariaDB: real row locks) -------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mariadb")
@pytest.mark.parametrize("same_email", [True, False])
def test_concurrent_enrolment_of_the_same_new_username_never_500s(monkeypatch, same_email):
    """Both requests see "new" then both insert: the loser retries and reads the winner's row."""
    from django.db import connection

    owner = TeacherFactory(username="race_owner")
    classes = [ClassesFactory(user=owner), ClassesFactory(user=owner)]
    barrier = threading.Barrier(2, timeout=10)
    real_create = services._users_create
    waited = threading.local()

    def create_after_both_looked(rows):
        if not getattr(waited, "done", False):  # only the first attempt of each thread
            waited.done = True
            barrier.wait()
        return real_create(rows)

    monkeypatch.setattr(services, "_users_create", create_after_both_looked)
    monkeypatch.setattr(services, "queue_set_password_mails", lambda *a: None)
    outcomes: list = [None, None]

    def run(i: int) -> None:
        email = "race@example.com" if same_email or i == 0 else f"race{i}@example.com"
        try:
            rows = [{"username": "racer", "email": email}]
            outcomes[i] = services.enrol_students(classes=classes[i], rows=rows)
        except services.EnrolmentError as exc:
            outcomes[i] = exc.errors
        except Exception as exc:  # the assertion below reports it
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert User.objects.filter(username="racer").count() == 1, outcomes
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    created = [o for o in outcomes if o.get("created") == 1]
    assert len(created) == 1
    other = next(o for o in outcomes if o is not created[0])
    if same_email:
        assert other == {"created": 0, "added": 1, "already_member": 0}
    else:
        assert list(other["rows"]["1"]) == ["email"]
