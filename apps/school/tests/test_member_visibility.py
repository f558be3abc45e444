"""`member` ids on class create/update are limited to users the caller may already see.

Regression (HIGH): `validate_member` accepted any active user id, so a teacher could put a staff
user or an unrelated student into a new class and then read their e-mail/mobile/role at
`GET /api/users/users/` (and the victims silently became members). API.md §1.5: ids the caller
may not use are reported exactly like nonexistent ids (400 `{"member": ["Invalid pk ..."]}`);
§2.1: a teacher sees the users sharing a class with them, staff everyone.
"""

import pytest

from apps.school.models import Classes
from apps.school.tests.factories import ClassesFactory
from apps.users.tests.factories import StudentFactory, TeacherFactory

URL = "/api/school/classes/"
USERS_URL = "/api/users/users/"
UNKNOWN_PK = 987654321  # no user has this id in a test DB


def invalid_pk_errors(client, pks: list[int]) -> list[str]:
    """The messages a nonexistent id gets (localised), rewritten for each of `pks`."""
    response = client.post(URL, {"name": "probe", "member": [UNKNOWN_PK]}, format="json")
    assert response.status_code == 400
    [message] = response.json()["member"]
    assert str(UNKNOWN_PK) in message
    return [message.replace(str(UNKNOWN_PK), str(pk)) for pk in pks]


@pytest.mark.django_db
def test_teacher_cannot_add_users_they_cannot_see_on_create(client_for, teacher, staff, student):
    client = client_for(teacher)
    assert client.get(USERS_URL).json()["results"] == []
    expected = invalid_pk_errors(client, [staff.pk, student.pk])

    response = client.post(URL, {"name": "trap", "member": [staff.pk, student.pk]}, format="json")

    assert response.status_code == 400, response.content
    assert response.json() == {"member": expected}  # same as an unknown id: nothing leaked
    assert not Classes.objects.exists()
    assert client.get(USERS_URL).json()["results"] == []


@pytest.mark.django_db
def test_hidden_and_unknown_ids_get_the_same_error(client_for, teacher, staff):
    client = client_for(teacher)
    hidden = client.post(URL, {"name": "x", "member": [staff.pk]}, format="json")
    unknown = client.post(URL, {"name": "x", "member": [UNKNOWN_PK]}, format="json")

    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["member"] == [
        unknown.json()["member"][0].replace(str(UNKNOWN_PK), str(staff.pk))
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["put", "patch"])
def test_owner_cannot_add_hidden_users_on_update(client_for, teacher, student, staff, method):
    klass = ClassesFactory(user=teacher, name="mine", members=[student])
    stranger = StudentFactory(username="stranger_s")
    client = client_for(teacher)
    expected = invalid_pk_errors(client, [staff.pk, stranger.pk])

    response = getattr(client, method)(
        f"{URL}{klass.pk}/",
        {"name": "mine", "member": [student.pk, staff.pk, stranger.pk]},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert response.json() == {"member": expected}
    assert set(klass.member.values_list("pk", flat=True)) == {teacher.pk, student.pk}
    listed = {u["id"] for u in client.get(USERS_URL).json()["results"]}
    assert listed == {teacher.pk, student.pk}


@pytest.mark.django_db
def test_teacher_may_add_users_sharing_a_class(client_for, teacher, student, other_teacher):
    ClassesFactory(user=other_teacher, members=[teacher, student])  # all three share a class

    response = client_for(teacher).post(
        URL, {"name": "new", "member": [student.pk, other_teacher.pk]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["member"] == sorted([teacher.pk, student.pk, other_teacher.pk])


@pytest.mark.django_db
def test_owner_keeps_current_members_on_update(client_for, teacher, student):
    klass = ClassesFactory(user=teacher, name="mine", members=[student])

    response = client_for(teacher).patch(
        f"{URL}{klass.pk}/", {"member": [student.pk]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["member"] == sorted([teacher.pk, student.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["create", "update"])
def test_staff_may_add_anyone(client_for, staff, teacher, action):
    stranger = StudentFactory(username="stranger_s")
    lone_teacher = TeacherFactory(username="lone_t")
    body = {"name": "staff class", "member": [stranger.pk, lone_teacher.pk]}
    client = client_for(staff)
    if action == "create":
        response = client.post(URL, body, format="json")
        assert response.status_code == 201, response.content
    else:
        klass = ClassesFactory(user=teacher)
        response = client.put(f"{URL}{klass.pk}/", body, format="json")
        assert response.status_code == 200, response.content
    assert {stranger.pk, lone_teacher.pk} <= set(response.json()["member"])
