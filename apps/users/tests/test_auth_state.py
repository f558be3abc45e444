"""The cached authentication state never lets a changed user through with an old state."""

import pytest
from django.contrib.auth.models import Group

from apps.users import services
from apps.users.auth_state import USER_STATE_KEY, load_user_state
from apps.users.tests.factories import StudentFactory, TeacherFactory, UserFactory

ME = "/api/users/me/"


@pytest.mark.django_db
def test_authenticated_request_uses_cached_state_without_user_query(
    client_for, django_assert_num_queries
):
    user = StudentFactory()
    client = client_for(user)
    assert client.get("/api/users/area/").status_code == 200  # warms the state cache
    with django_assert_num_queries(0):  # area list cached, user state cached
        assert client.get("/api/users/area/").status_code == 200


@pytest.mark.django_db
def test_deactivation_by_staff_rejects_existing_access_token_at_once(client_for):
    user = UserFactory()
    client = client_for(user)
    assert client.get(ME).status_code == 200  # state cached as active
    services.user_deactivate(user=user)
    response = client.get(ME)
    assert response.status_code == 401


@pytest.mark.django_db
def test_deactivation_by_save_rejects_existing_access_token(client_for):
    user = UserFactory()
    client = client_for(user)
    assert client.get(ME).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(ME).status_code == 401


@pytest.mark.django_db
def test_group_change_updates_role_at_once(client_for):
    user = StudentFactory()
    client = client_for(user)
    assert client.get(ME).json()["role"] == "student"
    assert load_user_state(user.pk)["groups"] == ["student"]
    user.groups.add(Group.objects.get(name="teacher"))
    assert load_user_state(user.pk)["groups"] == ["student", "teacher"]
    # and through the reverse side of the relation
    Group.objects.get(name="teacher").user_set.remove(user)
    assert load_user_state(user.pk)["groups"] == ["student"]


@pytest.mark.django_db
def test_partial_user_save_never_blanks_unloaded_columns(client_for):
    teacher = TeacherFactory(email="t@example.com")
    client = client_for(teacher)
    response = client.patch(ME, {"first_name": "王"}, format="json")
    assert response.status_code == 200
    teacher.refresh_from_db()
    assert teacher.first_name == "王"
    assert teacher.email == "t@example.com"
    assert teacher.has_usable_password()


@pytest.mark.django_db
def test_state_key_is_deleted_on_save():
    from django.core.cache import cache

    user = UserFactory()
    load_user_state(user.pk)
    assert cache.get(USER_STATE_KEY.format(id=user.pk)) is not None
    user.save()
    assert cache.get(USER_STATE_KEY.format(id=user.pk)) is None


@pytest.mark.django_db
def test_user_from_state_keeps_each_field_in_place():
    from apps.users.auth_state import user_from_state

    user = StudentFactory()
    built = user_from_state(load_user_state(user.pk))
    assert (built.pk, built.username, built.is_active) == (user.pk, user.username, True)
    assert (built.is_staff, built.is_superuser, built.role) == (False, False, "student")


@pytest.mark.django_db
def test_group_cleared_from_the_group_side_forgets_members_states():
    teacher = TeacherFactory()
    assert load_user_state(teacher.pk)["groups"] == ["teacher"]  # cached
    Group.objects.get(name="teacher").user_set.clear()
    assert load_user_state(teacher.pk)["groups"] == []


@pytest.mark.django_db
def test_group_renamed_or_deleted_forgets_members_states():
    student = StudentFactory()
    assert load_user_state(student.pk)["groups"] == ["student"]  # cached
    group = Group.objects.get(name="student")
    group.name = "former students"
    group.save()
    assert load_user_state(student.pk)["groups"] == ["former students"]

    group.name = "student"
    group.save()
    assert load_user_state(student.pk)["groups"] == ["student"]
    group.delete()
    assert load_user_state(student.pk)["groups"] == []


@pytest.mark.django_db
def test_a_state_read_before_a_deactivation_and_stored_after_it_is_not_used(
    django_capture_on_commit_callbacks,
):
    """The cache-aside race: a request reads the row, the deactivation commits and invalidates,
    then the request stores what it read. The stored state must not let the user in."""
    from django.core.cache import caches

    from apps.users.auth_state import USER_GENERATION_KEY

    user = UserFactory()
    cache = caches["default"]
    generation_read = cache.get(USER_GENERATION_KEY.format(id=user.pk))  # the reader, first
    stale = {**load_user_state(user.pk), "generation": generation_read}
    with django_capture_on_commit_callbacks(execute=True):
        services.user_deactivate(user=user)
    cache.set(USER_STATE_KEY.format(id=user.pk), stale, 300)  # the reader, last

    assert load_user_state(user.pk)["is_active"] is False
