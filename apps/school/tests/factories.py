"""factory_boy factories of the school app.

`ClassesFactory(user=<owner>, members=[...])`: a live class owned by a new teacher (or `user`);
the owner is always a member, plus any users passed as `members`.
"""

import factory
from factory.django import DjangoModelFactory

from apps.school.models import Classes
from apps.users.tests.factories import TeacherFactory


class ClassesFactory(DjangoModelFactory):
    """A live class; its owner and the `members` post-generation list are members."""

    class Meta:
        model = Classes
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Python-{n:02d}")
    slogan = "Learn by doing"
    user = factory.SubFactory(
        TeacherFactory, username=factory.Sequence(lambda n: f"classes_owner{n}")
    )

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if not create:
            return
        obj.member.add(obj.user, *(extracted or ()))


def mail_callbacks(callbacks: list) -> list:
    """The on-commit callbacks that queue set-password mails (others' callbacks ignored)."""
    from apps.school.services import queue_set_password_mails

    return [cb for cb in callbacks if getattr(cb, "func", None) is queue_set_password_mails]
