"""factory_boy factories of the users app (imported by other apps' tests too).

`UserFactory` (no group), `StudentFactory` (group `student`), `TeacherFactory` (group `teacher`),
`StaffFactory` (`is_staff`); `ProvinceFactory` → `CityFactory` → `DistrictFactory` (Area chain with
division-code ids); `AddressFactory` (a live address with a consistent area chain).
Every user's password is `DEFAULT_PASSWORD` unless `password=` is given.
"""

import factory
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from apps.users.models import STUDENT_GROUP, TEACHER_GROUP, Address, Area, User

DEFAULT_PASSWORD = "pw-Secret-123"


class UserFactory(DjangoModelFactory):
    """A plain active user without groups (gets the student view)."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = ""
    last_name = ""
    is_active = True
    password = factory.django.Password(DEFAULT_PASSWORD)


class StudentFactory(UserFactory):
    """A member of group `student`."""

    username = factory.Sequence(lambda n: f"student{n}")

    @factory.post_generation
    def role_group(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get_or_create(name=STUDENT_GROUP)[0])


class TeacherFactory(UserFactory):
    """A member of group `teacher`."""

    username = factory.Sequence(lambda n: f"teacher{n}")

    @factory.post_generation
    def role_group(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get_or_create(name=TEACHER_GROUP)[0])


class StaffFactory(UserFactory):
    """A staff user (`is_staff=True`)."""

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


class ProvinceFactory(DjangoModelFactory):
    """A province (`parent` null); ids from 90_000_000 up (outside the real code range)."""

    class Meta:
        model = Area
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: 90_000_000 + n)
    name = factory.Sequence(lambda n: f"省{n}")
    parent = None


class CityFactory(DjangoModelFactory):
    """A city under a new (or given) province."""

    class Meta:
        model = Area
        django_get_or_create = ("id",)

    parent = factory.SubFactory(ProvinceFactory)
    id = factory.Sequence(lambda n: 100_000_000 + n)
    name = factory.Sequence(lambda n: f"市{n}")


class DistrictFactory(DjangoModelFactory):
    """A district under a new (or given) city."""

    class Meta:
        model = Area
        django_get_or_create = ("id",)

    parent = factory.SubFactory(CityFactory)
    id = factory.Sequence(lambda n: 200_000_000 + n)
    name = factory.Sequence(lambda n: f"区{n}")


AreaFactory = ProvinceFactory  # the chain's root; use City/District factories for deeper levels


class AddressFactory(DjangoModelFactory):
    """A live address of `user` whose province/city/district form a valid chain."""

    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    receiver = factory.Sequence(lambda n: f"收件人{n}")
    district = factory.SubFactory(DistrictFactory)
    city = factory.LazyAttribute(lambda o: o.district.parent)
    province = factory.LazyAttribute(lambda o: o.district.parent.parent)
    place = factory.Sequence(lambda n: f"幸福路{n}号")
    mobile = "13800000000"
    is_default = False
