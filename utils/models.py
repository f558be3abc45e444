"""Abstract model mixins from the seed: timestamps and soft delete (API.md §3)."""

from django.db import models


class DateTimeModelsMixin(models.Model):
    """`create_time` / `update_time`, aware datetimes set by the database layer."""

    create_time = models.DateTimeField(auto_now_add=True, verbose_name="创建时间")
    update_time = models.DateTimeField(auto_now=True, verbose_name="更新时间")

    class Meta:
        abstract = True


class IsDeleteModelsMixin(models.Model):
    """Soft delete: rows with `is_delete=True` are hidden everywhere (never serialized)."""

    is_delete = models.BooleanField(default=False, verbose_name="逻辑删除")

    class Meta:
        abstract = True


class ModelsSetMixin(DateTimeModelsMixin, IsDeleteModelsMixin):
    """Timestamps and soft delete together (the seed's `ModelsSetMixin`)."""

    class Meta:
        abstract = True
