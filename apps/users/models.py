"""Users, administrative areas and delivery addresses (API.md §3)."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from utils.models import ModelsSetMixin

TEACHER_GROUP = "teacher"
STUDENT_GROUP = "student"
ADDRESS_SNAPSHOT_MAX = 255  # characters: the order's `address` column (API.md §3, Order)
ELLIPSIS = "…"


def address_snapshot(
    province: str, city: str, district: str, place: str, receiver: str, mobile: str
) -> str:
    """The order's address text `"{province} {city} {district} {place} [{receiver}] {mobile}"`
    (API.md §2.6 step 4), at most `ADDRESS_SNAPSHOT_MAX` characters.

    Valid addresses can be longer (names ≤20 ×3, place ≤200, receiver ≤20, mobile 11: up to 298
    characters); then only `place` is shortened, ending in "…", so the region, receiver and mobile
    always stay whole.
    """
    head, tail = f"{province} {city} {district} ", f" [{receiver}] {mobile}"
    room = ADDRESS_SNAPSHOT_MAX - len(head) - len(tail)
    if len(place) > room:
        place = place[: max(room - len(ELLIPSIS), 0)] + ELLIPSIS
    return f"{head}{place}{tail}"


class User(AbstractUser):
    """The platform's user (`AUTH_USER_MODEL`); role comes from groups by name (API.md §1.3)."""

    mobile = models.CharField(max_length=11, null=True, blank=True, verbose_name="手机号")  # noqa: DJ001
    avatar = models.ImageField(max_length=255, null=True, blank=True, verbose_name="头像")

    class Meta(AbstractUser.Meta):
        db_table = "users_user"
        verbose_name = "用户"
        verbose_name_plural = verbose_name
        swappable = "AUTH_USER_MODEL"

    @property
    def group_names(self) -> set[str]:
        """Names of the user's groups; uses a prefetched `groups` when there is one."""
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "groups" in cache:
            return {g.name for g in cache["groups"]}
        if not hasattr(self, "_group_names"):
            self._group_names = set(self.groups.values_list("name", flat=True))
        return self._group_names

    @property
    def role(self) -> str:
        """`staff` > `teacher` > `student` > `user` (API.md §1.3)."""
        if self.is_staff or self.is_superuser:
            return "staff"
        names = self.group_names
        if TEACHER_GROUP in names:
            return "teacher"
        if STUDENT_GROUP in names:
            return "student"
        return "user"

    @property
    def is_teacher(self) -> bool:
        """Teacher or above (staff counts as teacher)."""
        return self.role in ("teacher", "staff")


class Area(models.Model):
    """Province → city → district (self-FK, `parent` null for provinces). Id = division code."""

    id = models.IntegerField(primary_key=True, verbose_name="行政区划代码")
    name = models.CharField(max_length=20, verbose_name="名称")
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        related_name="subs",
        null=True,
        blank=True,
        verbose_name="上级行政区划",
    )

    class Meta:
        db_table = "area"
        verbose_name = "行政区划"
        verbose_name_plural = verbose_name
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Address(ModelsSetMixin):
    """A user's delivery address; ≤20 live per user, at most one default (kept by the service)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    receiver = models.CharField(max_length=20, verbose_name="收货人")
    province = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    city = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    place = models.CharField(max_length=200, verbose_name="详细地址")
    mobile = models.CharField(max_length=11, verbose_name="手机号")
    is_default = models.BooleanField(default=False, verbose_name="默认地址")

    class Meta:
        db_table = "address"
        verbose_name = "收货地址"
        verbose_name_plural = verbose_name
        ordering = ["-is_default", "-update_time"]

    def __str__(self) -> str:
        return f"{self.receiver} {self.place}"

    @property
    def snapshot(self) -> str:
        """The order's address text (`address_snapshot`: API.md §2.6 step 4, ≤255 characters)."""
        return address_snapshot(
            self.province.name,
            self.city.name,
            self.district.name,
            self.place,
            self.receiver,
            self.mobile,
        )
