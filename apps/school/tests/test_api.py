"""Classes endpoints (API.md §2.2): role matrix, shapes, soft delete, `last`, query counts."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.school import selectors
from apps.school.models import Classes
from apps.school.serializers import ClassesSerializer
from apps.school.tests.factories import ClassesFactory
from apps.users.models import STUDENT_GROUP, User
from apps.users.tests.factories import StudentFactory, TeacherFactory

URL = "/api/school/classes/"


def detail(pk: int) -> str:
    return f"{URL}{pk}/"


@pytest.fixture
def klass(teacher, student, other_teacher):
    """A class owned by `teacher` with `student` and `other_teacher` as members."""
    return ClassesFactory(user=teacher, name="Python-01", members=[student, other_teacher])


# --- read ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_gets_401(api_client, klass):
    assert api_client.get(URL).status_code == 401
    assert api_client.get(detail(klass.pk)).status_code == 401


@pytest.mark.django_db
def test_list_shows_member_classes_only_and_staff_all(client_for, klass, student, staff, user):
    ClassesFactory(name="other class")  # student is no member
    ClassesFactory(name="gone", user=klass.user, members=[student], is_delete=True)

    mine = client_for(student).get(URL).json()
    everything = client_for(staff).get(URL).json()
    nothing = client_for(user).get(URL).json()

    assert [c["name"] for c in mine["results"]] == ["Python-01"]
    assert mine["count"] == 1
    assert sorted(c["name"] for c in everything["results"]) == ["Python-01", "other class"]
    assert nothing == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.django_db
def test_detail_shape_and_member_detail(client_for, klass, teacher, student, other_teacher):
    body = client_for(student).get(detail(klass.pk)).json()

    assert set(body) == {
        "id",
        "name",
        "slogan",
        "member",
        "memberDetail",
        "create_time",
        "update_time",
    }
    assert body["member"] == sorted([teacher.pk, student.pk, other_teacher.pk])
    assert body["memberDetail"] == {
        "teachers": [
            {"id": teacher.pk, "username": "teacher1", "avatar": None, "role": "teacher"},
            {"id": other_teacher.pk, "username": "teacher2", "avatar": None, "role": "teacher"},
        ],
        "students": [{"id": student.pk, "username": "student1", "avatar": None, "role": "student"}],
    }
    assert body["create_time"].endswith("+08:00")


@pytest.mark.django_db
def test_member_detail_avatar_is_absolute_and_staff_count_as_teachers(client_for, klass, staff):
    klass.member.add(staff)
    student = klass.member.get(username="student1")
    User.objects.filter(pk=student.pk).update(avatar="avatars/a.png")

    body = client_for(staff).get(detail(klass.pk)).json()

    assert {"id": staff.pk, "username": "staff1", "avatar": None, "role": "staff"} in body[
        "memberDetail"
    ]["teachers"]
    assert body["memberDetail"]["students"][0]["avatar"] == "http://testserver/media/avatars/a.png"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("member_teacher", 200), ("member_student", 200), ("staff", 200),
     ("outsider_teacher", 404), ("outsider_student", 404)],
)  # fmt: skip
def test_retrieve_role_matrix(client_for, klass, staff, who, expected):
    users = {
        "owner": klass.user,
        "member_teacher": klass.member.get(username="teacher2"),
        "member_student": klass.member.get(username="student1"),
        "staff": staff,
        "outsider_teacher": TeacherFactory(username="outsider_t"),
        "outsider_student": StudentFactory(username="outsider_s"),
    }
    assert client_for(users[who]).get(detail(klass.pk)).status_code == expected


@pytest.mark.django_db
def test_soft_deleted_class_is_404_even_for_staff(client_for, klass, staff):
    Classes.objects.filter(pk=klass.pk).update(is_delete=True)
    assert client_for(staff).get(detail(klass.pk)).status_code == 404
    assert client_for(klass.user).get(detail(klass.pk)).status_code == 404


@pytest.mark.django_db
def test_last_returns_most_recent_visible_class(client_for, klass, student):
    newer = ClassesFactory(name="newer", members=[student])
    ClassesFactory(name="newest, not mine")

    response = client_for(student).get(f"{URL}last/")

    assert response.status_code == 200
    assert response.json()["id"] == newer.pk


@pytest.mark.django_db
def test_last_is_404_without_classes(client_for, user):
    response = client_for(user).get(f"{URL}last/")
    assert response.status_code == 404
    assert response.json() == {"detail": response.json()["detail"]}


# --- create --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "expected"), [("teacher", 201), ("staff", 201),
                                               ("student", 403), ("user", 403)])  # fmt: skip
def test_create_role_matrix(request, client_for, who, expected):
    caller = request.getfixturevalue(who)
    response = client_for(caller).post(URL, {"name": "New"}, format="json")
    assert response.status_code == expected
    if expected == 201:
        assert response.json()["member"] == [caller.pk]
    else:
        assert not Classes.objects.exists()


@pytest.mark.django_db
def test_create_adds_creator_and_members_and_ignores_user_field(client_for, teacher, student):
    other = StudentFactory(username="other_s")
    # `member` takes only users the teacher already sees (test_member_visibility.py)
    ClassesFactory(user=teacher, name="earlier", members=[student, other])
    response = client_for(teacher).post(
        URL,
        {"name": "Py", "slogan": None, "member": [student.pk, other.pk], "user": other.pk},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    klass = Classes.objects.get(pk=body["id"])
    assert klass.user == teacher
    assert body["slogan"] is None
    assert body["member"] == sorted([teacher.pk, student.pk, other.pk])
    assert [s["id"] for s in body["memberDetail"]["students"]] == sorted([student.pk, other.pk])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 31}, "name"),
     ({"name": "ok", "slogan": "s" * 501}, "slogan"), ({"name": "ok", "member": [999999]}, "member"),
     ({"name": "ok", "member": ["abc"]}, "member")],
)  # fmt: skip
def test_create_validation(client_for, teacher, payload, field):
    response = client_for(teacher).post(URL, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Classes.objects.exists()


@pytest.mark.django_db
def test_create_unknown_member_uses_invalid_pk_message(client_for, teacher):
    response = client_for(teacher).post(URL, {"name": "ok", "member": [424242]}, format="json")
    assert "424242" in response.json()["member"][0]


# --- update / delete -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("staff", 200), ("member_teacher", 403), ("member_student", 403),
     ("outsider_teacher", 404)],
)  # fmt: skip
def test_patch_role_matrix(client_for, klass, staff, who, expected):
    users = {
        "owner": klass.user,
        "staff": staff,
        "member_teacher": klass.member.get(username="teacher2"),
        "member_student": klass.member.get(username="student1"),
        "outsider_teacher": TeacherFactory(username="outsider_t"),
    }
    response = client_for(users[who]).patch(detail(klass.pk), {"name": "Renamed"}, format="json")

    assert response.status_code == expected
    klass.refresh_from_db()
    assert klass.name == ("Renamed" if expected == 200 else "Python-01")


@pytest.mark.django_db
def test_put_replaces_members_but_keeps_owner(client_for, klass, teacher, student):
    newcomer = StudentFactory(username="newcomer_s")
    ClassesFactory(user=teacher, name="earlier", members=[newcomer])  # visible to the teacher
    response = client_for(teacher).put(
        detail(klass.pk), {"name": "P2", "slogan": "s", "member": [newcomer.pk]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["member"] == sorted([teacher.pk, newcomer.pk])
    assert set(klass.member.values_list("pk", flat=True)) == {teacher.pk, newcomer.pk}


@pytest.mark.django_db
def test_put_requires_name(client_for, klass, teacher):
    response = client_for(teacher).put(detail(klass.pk), {"slogan": "x"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 204), ("staff", 204), ("member_teacher", 403), ("member_student", 403),
     ("outsider_student", 404)],
)  # fmt: skip
def test_delete_role_matrix_and_soft_delete(client_for, klass, staff, who, expected):
    users = {
        "owner": klass.user,
        "staff": staff,
        "member_teacher": klass.member.get(username="teacher2"),
        "member_student": klass.member.get(username="student1"),
        "outsider_student": StudentFactory(username="outsider_s"),
    }
    response = client_for(users[who]).delete(detail(klass.pk))

    assert response.status_code == expected
    klass.refresh_from_db()
    assert klass.is_delete is (expected == 204)
    assert Classes.objects.filter(pk=klass.pk).exists()  # never a hard delete
    if expected == 204:
        assert client_for(klass.user).get(detail(klass.pk)).status_code == 404


# --- constant query counts -----------------------------------------------------------------


def _class_of(size: int) -> Classes:
    """A class of `size` members (1 teacher + students), created in bulk."""
    owner = TeacherFactory(username=f"owner_{size}")
    students = User.objects.bulk_create(
        [User(username=f"bulk{size}_{i}", email=f"b{i}@example.com") for i in range(size - 1)]
    )
    students = list(User.objects.filter(username__startswith=f"bulk{size}_"))
    Group.objects.get(name=STUDENT_GROUP).user_set.add(*students)
    klass = ClassesFactory(user=owner)
    klass.member.add(*students)
    return klass


def _count_queries(client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


@pytest.mark.django_db
def test_member_detail_query_count_is_constant(client_for, staff, django_assert_num_queries):
    small, big = _class_of(10), _class_of(1000)
    client = client_for(staff)
    client.get(detail(small.pk))  # warm-up: nothing cached per request anyway

    n_small, body_small = _count_queries(client, detail(small.pk))
    with django_assert_num_queries(n_small):
        big_body = client.get(detail(big.pk)).json()

    assert len(body_small["member"]) == 10
    assert len(big_body["member"]) == 1000
    assert len(big_body["memberDetail"]["students"]) == 999
    assert n_small <= 5  # measured 3-4: (JWT user,) classes, members, members' groups


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 1000])
def test_member_detail_is_three_queries_whatever_the_size(
    staff, size, django_assert_num_queries, rf
):
    klass = _class_of(size)
    request = rf.get("/")
    with django_assert_num_queries(3):  # classes, members, members' groups
        obj = selectors.classes_list_visible_to(user=staff).get(pk=klass.pk)
        data = ClassesSerializer(obj, context={"request": request}).data
    assert len(data["member"]) == size


@pytest.mark.django_db
def test_list_query_count_is_constant_per_page(client_for, staff, django_assert_num_queries):
    _class_of(10)
    client = client_for(staff)
    client.get(URL)  # warm-up (per-user auth caches)
    n_one, _ = _count_queries(client, URL)
    _class_of(1000)
    for _i in range(3):
        ClassesFactory()
    with django_assert_num_queries(n_one):
        body = client.get(URL).json()

    assert body["count"] == 5
    assert n_one <= 6  # measured 4-5: (JWT user,) count, classes, members, members' groups
