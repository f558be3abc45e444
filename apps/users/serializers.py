"""Serializers of the users app: input validation and the User/Address/Area shapes (API.md §2.1)."""

import re
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.validators import UniqueValidator
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from apps.users.models import STUDENT_GROUP, TEACHER_GROUP, Address, Area, User
from apps.users.roles import is_staff
from utils.images import validate_image_upload

MOBILE_RE = re.compile(r"\A1[3-9][0-9]{9}\Z")  # ASCII digits only; no trailing newline
MOBILE_MESSAGE = "Enter a valid mobile number."


def absolute_file_url(request, field) -> str | None:
    """Absolute URL of a stored file field (`None` when empty); storage URLs already absolute
    (FastDFS) are kept as they are."""
    if not field:
        return None
    url = field.url
    return request.build_absolute_uri(url) if request is not None else url


# --- Login, tokens, passwords ------------------------------------------------------------------


class LoginSerializer(serializers.Serializer):
    """Login body: `username` ≤150, `password` ≤128, `uuid` (captcha id), `verify` (4 chars)."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    uuid = serializers.UUIDField()
    verify = serializers.CharField(min_length=4, max_length=4)


class RefreshInputSerializer(serializers.Serializer):
    """`{"refresh": str}` (logout)."""

    refresh = serializers.CharField()


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """simplejwt's refresh (rotation + blacklist), with two fixes:

    - one refresh token rotates once: simplejwt 5.5.1 checks the blacklist and writes it without
      a lock, so two simultaneous requests with the same token both got new tokens. Here the
      user's row is locked first and simplejwt's check runs under that lock, in one transaction:
      the second request then finds the token blacklisted (401 `token_not_valid`);
    - a token of a deleted user is 401 `no_active_account`, like an inactive one (simplejwt lets
      `User.DoesNotExist` escape: a 500).
    """

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        user_id = self.token_class(attrs["refresh"]).payload.get(jwt_settings.USER_ID_CLAIM)
        try:
            with transaction.atomic():
                User.objects.select_for_update().filter(pk=user_id).first()
                return super().validate(attrs)
        except User.DoesNotExist:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


class PasswordSetSerializer(serializers.Serializer):
    """Set-password body: `uid` (urlsafe base64 user id), `token`, `new_password`."""

    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordChangeSerializer(serializers.Serializer):
    """`old_password` must be the caller's current password; `new_password` passes Django's
    password validators (context `request` required)."""

    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate_old_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("Your old password was entered incorrectly.")
        return value

    def validate_new_password(self, value: str) -> str:
        validate_password(value, self.context["request"].user)
        return value


# --- Users -------------------------------------------------------------------------------------


class UserBriefSerializer(serializers.ModelSerializer):
    """`UserBrief`: `{"id", "username", "avatar": url|null, "role"}`."""

    avatar = serializers.SerializerMethodField()
    role = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "avatar", "role")

    def get_avatar(self, obj: User) -> str | None:
        return absolute_file_url(self.context.get("request"), obj.avatar)


class UserSerializer(UserBriefSerializer):
    """User representation (API.md §2.1); every field read-only here."""

    # "" for a user without an address: allow_blank puts that in the schema
    email = serializers.EmailField(read_only=True, allow_blank=True)
    groups = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "mobile",
            "avatar",
            "role",
            "groups",
            "is_active",
            "date_joined",
        )
        read_only_fields = fields

    def get_groups(self, obj: User) -> list[str]:
        return sorted(obj.group_names)


class MeUpdateSerializer(serializers.Serializer):
    """PATCH /me/: only `email`, `first_name`, `last_name`, `mobile`; anything else is ignored."""

    email = serializers.EmailField(max_length=254, allow_blank=True, required=False)
    first_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    last_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    mobile = serializers.RegexField(
        MOBILE_RE, allow_null=True, required=False, error_messages={"invalid": MOBILE_MESSAGE}
    )


class UserUpdateSerializer(serializers.Serializer):
    """PATCH /users/{id}/: `email`, `first_name`, `last_name`; staff only `is_active`, `groups`."""

    STAFF_ONLY = ("is_active", "groups")

    email = serializers.EmailField(max_length=254, allow_blank=True, required=False)
    first_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    last_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    is_active = serializers.BooleanField(required=False)
    groups = serializers.ListField(
        child=serializers.ChoiceField(choices=[TEACHER_GROUP, STUDENT_GROUP]),
        required=False,
        max_length=2,
    )


class RegisterStudentSerializer(serializers.Serializer):
    """Register-student body: `username` (Django rules, unique), `email`, optional names, and
    `classes`: a live class the caller is a member of (staff: any live class)."""

    username = serializers.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator(), UniqueValidator(queryset=User.objects.all())],
    )
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    last_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    classes = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from apps.school.models import Classes  # lazy: the school app builds on users

        request = self.context.get("request")  # absent only when the schema is generated
        user = getattr(request, "user", None)
        classes = Classes.objects.filter(is_delete=False)
        if not is_staff(user):
            classes = classes.filter(member=user)
        self.fields["classes"].queryset = classes


class AvatarSerializer(serializers.Serializer):
    """Multipart `file`: an image checked by `utils.images.validate_image_upload` (§1.8).

    `validated_data["file"]` is the decoded `PIL.Image.Image`.
    """

    file = serializers.FileField(allow_empty_file=False)

    def validate_file(self, value):
        return validate_image_upload(value)


# --- Areas and addresses -----------------------------------------------------------------------


class AreaSerializer(serializers.ModelSerializer):
    """`{"id": division code, "name"}`."""

    class Meta:
        model = Area
        fields = ("id", "name")


class AreaDetailSerializer(serializers.ModelSerializer):
    """`{"id", "name", "subs": [{"id", "name"}, ...]}`."""

    subs = AreaSerializer(many=True, read_only=True)

    class Meta:
        model = Area
        fields = ("id", "name", "subs")


class AddressSerializer(serializers.ModelSerializer):
    """Address body and representation (API.md §2.1 "Address").

    Checks the chain: `province.parent` null, `city.parent = province`, `district.parent = city`
    (errors on the offending field). `user` is server-set; `is_default` optional.
    """

    province = serializers.PrimaryKeyRelatedField(queryset=Area.objects.all())
    city = serializers.PrimaryKeyRelatedField(queryset=Area.objects.all())
    district = serializers.PrimaryKeyRelatedField(queryset=Area.objects.all())
    receiver = serializers.CharField(min_length=1, max_length=20)
    place = serializers.CharField(min_length=1, max_length=200)
    mobile = serializers.RegexField(MOBILE_RE, error_messages={"invalid": MOBILE_MESSAGE})
    is_default = serializers.BooleanField(required=False, default=False)
    province_name = serializers.CharField(source="province.name", read_only=True)
    city_name = serializers.CharField(source="city.name", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)

    class Meta:
        model = Address
        fields = (
            "id",
            "receiver",
            "province",
            "city",
            "district",
            "place",
            "mobile",
            "is_default",
            "province_name",
            "city_name",
            "district_name",
            "create_time",
            "update_time",
        )
        read_only_fields = ("id", "create_time", "update_time")

    def get_fields(self):
        fields = super().get_fields()
        if self.partial:  # PATCH without is_default leaves it alone
            fields["is_default"] = serializers.BooleanField(required=False)
        return fields

    def validate(self, attrs: dict) -> dict:
        def pick(name: str) -> Area | None:
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name, None) if self.instance else None

        province, city, district = pick("province"), pick("city"), pick("district")
        errors: dict[str, list[str]] = {}
        if province is not None and province.parent_id is not None:
            errors["province"] = ["Not a province."]
        if city is not None and province is not None and city.parent_id != province.pk:
            errors["city"] = ["City is not in the province."]
        if district is not None and city is not None and district.parent_id != city.pk:
            errors["district"] = ["District is not in the city."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
