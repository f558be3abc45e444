"""Classes: a teacher's class and its members (API.md §2.2, §3)."""

from django.conf import settings
from django.db import models

from utils.models import ModelsSetMixin


class Classes(ModelsSetMixin):
    """A class owned by the teacher who created it (`user`); `member` holds teachers and students.

    The owner is always a member (kept by `services.classes_create`). Soft-deleted with `is_delete`.
    """

    name = models.CharField(max_length=30, verbose_name="班级名称")
    slogan = models.TextField(null=True, blank=True, verbose_name="口号")  # noqa: DJ001
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="classes_owned",
        verbose_name="创建者",
    )
    member = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="classes_joined",
        blank=True,
        verbose_name="成员",
    )

    class Meta:
        db_table = "classes"
        verbose_name = "班级"
        verbose_name_plural = verbose_name
        ordering = ["-create_time", "-id"]

    def __str__(self) -> str:
        return self.name
