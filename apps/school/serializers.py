"""Classes representation and input (API.md §2.2)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.relations import PrimaryKeyRelatedField

from apps.school.models import Classes
from apps.school.services import ENROLMENT_MAX_ROWS
from apps.users.selectors import user_detail_visible_to

User = get_user_model()
MEMBER_MAX = 5000  # ids per create/update body


def user_brief(user, request=None) -> dict:
    """`UserBrief` `{"id", "username", "avatar": absolute url | None, "role"}` (API.md §2.1)."""
    avatar = None
    if user.avatar:
        avatar = user.avatar.url
        if request is not None:
            avatar = request.build_absolute_uri(avatar)
    return {"id": user.pk, "username": user.username, "avatar": avatar, "role": user.role}


class ClassesSerializer(serializers.ModelSerializer):
    """Output: `{"id", "name", "slogan", "member": [id], "memberDetail": {"teachers": [UserBrief],
    "students": [UserBrief]}, "create_time", "update_time"}`.

    Expects `member` prefetched with groups (`selectors.member_prefetch`): no query per member.
    """

    member = serializers.SerializerMethodField()
    memberDetail = serializers.SerializerMethodField()  # contract name

    class Meta:
        model = Classes
        fields = ["id", "name", "slogan", "member", "memberDetail", "create_time", "update_time"]
        read_only_fields = fields

    def get_member(self, obj: Classes) -> list[int]:
        return [m.pk for m in obj.member.all()]

    def get_memberDetail(self, obj: Classes) -> dict:
        request = self.context.get("request")
        detail: dict[str, list] = {"teachers": [], "students": []}
        for m in obj.member.all():
            role = m.role
            if role in ("teacher", "staff"):
                detail["teachers"].append(user_brief(m, request))
            elif role == "student":
                detail["students"].append(user_brief(m, request))
        return detail


ID_MAX = 2**63 - 1  # the largest primary key (BigAutoField, SQLite INTEGER)


class ClassesInputSerializer(serializers.Serializer):
    """Create/update body: `name` 1–30, `slogan` ≤500 or null, `member` [user id].

    `member` ids must be active users the caller may already see (API.md §2.1 users detail:
    self, a teacher's classmates, staff everyone); needs `context={"request": request}`.
    """

    name = serializers.CharField(max_length=30)
    slogan = serializers.CharField(
        max_length=500, allow_null=True, allow_blank=True, required=False
    )
    member = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=MEMBER_MAX
    )

    def validate_member(self, value: list[int]) -> list[int]:
        """Every id must be an active user visible to the caller (one query).

        Hidden and nonexistent ids get the same DRF "Invalid pk" message (API.md §1.5), so a
        teacher can neither probe ids nor pull strangers (whose e-mail/mobile the users list
        would then show) into a class; students join through enrolment (API.md §2.2).
        """
        ids = list(dict.fromkeys(value))
        in_range = [pk for pk in ids if 0 < pk <= ID_MAX]  # SQLite overflows on bigger ints
        visible = user_detail_visible_to(user=self.context["request"].user).prefetch_related(None)
        found = set(visible.filter(pk__in=in_range, is_active=True).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            message = PrimaryKeyRelatedField.default_error_messages["does_not_exist"]
            raise serializers.ValidationError([message.format(pk_value=pk) for pk in missing])
        return ids


class EnrolmentInputSerializer(serializers.Serializer):
    """JSON enrolment body `{"students": [{...}, ...]}` (1–2000 objects; rows checked later)."""

    students = serializers.ListField(min_length=1, max_length=ENROLMENT_MAX_ROWS)


class EnrolmentResultSerializer(serializers.Serializer):
    """`{"created": n, "added": n, "already_member": n}` (schema only)."""

    created = serializers.IntegerField()
    added = serializers.IntegerField()
    already_member = serializers.IntegerField()
