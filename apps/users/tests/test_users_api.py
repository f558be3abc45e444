"""/api/users/users/: visibility, PATCH rules, deactivation, register-student (API.md §2.1)."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.school.tests.factories import ClassesFactory
from apps.users.models import User
from apps.users.tests.factories import StaffFactory, StudentFactory, TeacherFactory, UserFactory

URL = "/api/users/users/"


@pytest.fixture
def school(db):
    """teacher + student share a class; an outsider student and another teacher's class."""
    teacher, student, outsider = TeacherFactory(), StudentFactory(), StudentFactory()
    ClassesFactory(user=teacher, members=[student])
    ClassesFactory(members=[outsider])
    return {"teacher": teacher, "student": student, "outsider": outsider}


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_teacher_lists_users_sharing_a_class(school, client_for):
    response = client_for(school["teacher"]).get(URL)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert ids(response) == {school["teacher"].pk, school["student"].pk}
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_deleted_class_no_longer_shares(school, client_for):
    school["teacher"].classes_owned.update(is_delete=True)
    assert ids(client_for(school["teacher"]).get(URL)) == set()


def test_staff_lists_all_and_filters_by_username(school, client_for):
    staff = StaffFactory()
    assert ids(client_for(staff).get(URL)) == set(User.objects.values_list("pk", flat=True))
    name = school["outsider"].username.upper()
    assert ids(client_for(staff).get(URL, {"username": name})) == {school["outsider"].pk}


def test_student_cannot_list(school, client_for):
    assert client_for(school["student"]).get(URL).status_code == 403


@pytest.mark.parametrize(
    ("caller", "target", "status"),
    [
        ("teacher", "student", 200),
        ("teacher", "outsider", 404),
        ("student", "student", 200),
        ("student", "teacher", 404),
        ("staff", "outsider", 200),
    ],
)
def test_retrieve_visibility(school, client_for, caller, target, status):
    who = StaffFactory() if caller == "staff" else school[caller]
    response = client_for(who).get(f"{URL}{school[target].pk}/")
    assert response.status_code == status


def test_patch_self_but_not_staff_fields(school, client_for):
    student = school["student"]
    client = client_for(student)
    ok = client.patch(f"{URL}{student.pk}/", {"first_name": "Stu", "username": "x"})
    assert ok.status_code == 200
    assert ok.json()["first_name"] == "Stu"
    assert ok.json()["username"] == student.username
    assert client.patch(f"{URL}{student.pk}/", {"is_active": False}).status_code == 403
    assert client.patch(f"{URL}{student.pk}/", {"groups": ["teacher"]}).status_code == 403
    student.refresh_from_db()
    assert student.is_active
    assert student.role == "student"


def test_teacher_cannot_patch_visible_student_but_staff_can(school, client_for):
    student = school["student"]
    assert (
        client_for(school["teacher"]).patch(f"{URL}{student.pk}/", {"first_name": "Z"}).status_code
        == 403
    )
    response = client_for(StaffFactory()).patch(
        f"{URL}{student.pk}/", {"groups": ["teacher"], "first_name": "T"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "teacher"
    assert response.json()["groups"] == ["teacher"]


def test_put_is_405(school, client_for):
    assert client_for(StaffFactory()).put(f"{URL}{school['student'].pk}/", {}).status_code == 405


def test_delete_deactivates_and_blacklists(school, client_for, api_client):
    student = school["student"]
    refresh = RefreshToken.for_user(student)
    assert client_for(school["teacher"]).delete(f"{URL}{student.pk}/").status_code == 403
    assert client_for(StaffFactory()).delete(f"{URL}{student.pk}/").status_code == 204
    student.refresh_from_db()
    assert not student.is_active
    assert OutstandingToken.objects.get(jti=refresh["jti"]).blacklistedtoken
    response = api_client.post("/api/users/login/refresh/", {"refresh": str(refresh)})
    assert response.status_code == 401


def test_delete_invisible_user_is_404_for_non_staff(school, client_for):
    response = client_for(school["teacher"]).delete(f"{URL}{school['outsider'].pk}/")
    assert response.status_code == 404


def test_register_student_into_own_class(school, client_for, django_capture_on_commit_callbacks):
    teacher = school["teacher"]
    classes = teacher.classes_owned.get()
    body = {"username": "newbie", "email": "newbie@example.com", "classes": classes.pk}
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(teacher).post(URL, body)
    assert response.status_code == 201, response.json()
    assert response.json()["role"] == "student"
    assert "password" not in response.json()
    user = User.objects.get(username="newbie")
    assert not user.has_usable_password()
    assert classes.member.filter(pk=user.pk).exists()


def test_register_student_rejects_foreign_class_and_duplicate(school, client_for):
    teacher = school["teacher"]
    foreign = school["outsider"].classes_joined.get()
    body = {"username": "newbie", "email": "n@example.com", "classes": foreign.pk}
    response = client_for(teacher).post(URL, body)
    assert response.status_code == 400
    assert set(response.json()) == {"classes"}
    own = teacher.classes_owned.get()
    dup = {"username": school["student"].username, "email": "n@example.com", "classes": own.pk}
    response = client_for(teacher).post(URL, dup)
    assert response.status_code == 400
    assert set(response.json()) == {"username"}


def test_register_student_forbidden_for_students(school, client_for):
    own = school["student"].classes_joined.get()
    body = {"username": "z", "email": "z@example.com", "classes": own.pk}
    assert client_for(school["student"]).post(URL, body).status_code == 403


@pytest.mark.django_db
def test_list_is_flat_in_queries(client_for, django_assert_max_num_queries):
    staff = StaffFactory()
    for _ in range(15):
        UserFactory()
    client = client_for(staff)
    with django_assert_max_num_queries(6):
        response = client.get(URL, {"size": 20})
    assert len(response.json()["results"]) == 16
