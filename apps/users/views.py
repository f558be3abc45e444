"""Views of the users app (API.md §2.1): thin, rules in `services`, visibility in `selectors`."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.generics import get_object_or_404 as drf_get_object_or_404
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_extensions.key_constructor import bits
from rest_framework_extensions.key_constructor.constructors import DefaultKeyConstructor
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from apps.users import selectors, services
from apps.users.models import Address
from apps.users.roles import IsTeacher, is_staff
from apps.users.serializers import (
    AddressSerializer,
    AreaDetailSerializer,
    AreaSerializer,
    AvatarSerializer,
    LoginSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    PasswordSetSerializer,
    RefreshInputSerializer,
    RegisterStudentSerializer,
    TokenRefreshSerializer,
    UserSerializer,
    UserUpdateSerializer,
    absolute_file_url,
)
from apps.users.throttles import CaptchaThrottle, LoginThrottle, PasswordSetThrottle
from utils.cache import VersionKeyBit, versioned_cache_response

NO_ACCOUNT = "No active account found with the given credentials"

_LOGIN_BODY = inline_serializer(
    "LoginResponse",
    {
        "access": serializers.CharField(),
        "refresh": serializers.CharField(),
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "avatar": serializers.URLField(allow_null=True),
        "role": serializers.CharField(),
    },
)
_AVATAR_BODY = inline_serializer("AvatarResponse", {"avatar": serializers.URLField()})


class PrivateNoStoreMixin:
    """Owner-scoped responses: `Cache-Control: private, no-store` (API.md §1.7)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response


# --- Captcha, login, tokens, set-password (anon) -----------------------------------------------


class CaptchaView(APIView):
    """GET a 140×40 PNG captcha for `uuid`; the code is stored for 180 s (anon, scope captcha)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (CaptchaThrottle,)

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, uuid):
        png = services.captcha_issue(uuid=uuid)
        return HttpResponse(png, content_type="image/png", headers={"Cache-Control": "no-store"})


class LoginView(APIView):
    """POST username/password/uuid/verify → tokens + UserBrief (API.md order of checks)."""

    authentication_classes = ()  # a stale Authorization header must not block a login
    permission_classes = (AllowAny,)
    throttle_classes = (LoginThrottle,)

    @extend_schema(request=LoginSerializer, responses={200: _LOGIN_BODY})
    def post(self, request):
        params = LoginSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            services.captcha_check(uuid=data["uuid"], answer=data["verify"])
        except (services.CaptchaExpired, services.CaptchaIncorrect) as exc:
            raise exceptions.ValidationError({"verify": [exc.message]}) from None
        user = services.login_authenticate(
            request=request, username=data["username"], password=data["password"]
        )
        if user is None:
            raise exceptions.AuthenticationFailed(NO_ACCOUNT, "no_active_account")
        tokens = services.login_tokens(user=user)
        body = {
            **tokens,
            "id": user.pk,
            "username": user.username,
            "avatar": absolute_file_url(request, user.avatar),
            "role": user.role,
        }
        return Response(body, headers={"Cache-Control": "no-store"})

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'  # so bad credentials stay 401 without authenticators


class RefreshView(TokenRefreshView):
    """POST `refresh` → new access + rotated refresh; the old refresh is blacklisted. A token
    of a deleted or inactive user → 401 `no_active_account`."""

    serializer_class = TokenRefreshSerializer
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginThrottle,)


class LogoutView(APIView):
    """POST the caller's `refresh` → blacklisted, 204. Another user's token → 400."""

    @extend_schema(request=RefreshInputSerializer, responses={204: OpenApiResponse()})
    def post(self, request):
        params = RefreshInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            refresh = RefreshToken(params.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        if str(refresh.get(jwt_settings.USER_ID_CLAIM)) != str(request.user.pk):
            raise exceptions.ValidationError({"refresh": ["Token does not belong to you."]})
        services.logout(user=request.user, refresh=refresh)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordSetView(APIView):
    """POST uid/token/new_password from the set-password mail → 204 (anon, one use)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (PasswordSetThrottle,)

    @extend_schema(request=PasswordSetSerializer, responses={204: OpenApiResponse()})
    def post(self, request):
        params = PasswordSetSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            services.password_set_by_link(**params.validated_data)
        except services.InvalidLink as exc:
            raise exceptions.ValidationError({"token": [exc.message]}) from None
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"new_password": list(exc.messages)}) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Me ----------------------------------------------------------------------------------------


class MeView(PrivateNoStoreMixin, APIView):
    """GET / PATCH the caller's own User (PATCH: email, first_name, last_name, mobile)."""

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        user = selectors.user_get_full(pk=request.user.pk)  # request.user is a cached, partial row
        return Response(UserSerializer(user, context={"request": request}).data)

    @extend_schema(request=MeUpdateSerializer, responses=UserSerializer)
    def patch(self, request):
        params = MeUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        user = services.me_update(
            user=selectors.user_get_full(pk=request.user.pk), **params.validated_data
        )
        return Response(UserSerializer(user, context={"request": request}).data)


class MePasswordView(PrivateNoStoreMixin, APIView):
    """POST old_password/new_password → 204; all the caller's refresh tokens blacklisted."""

    @extend_schema(request=PasswordChangeSerializer, responses={204: OpenApiResponse()})
    def post(self, request):
        params = PasswordChangeSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        services.password_change(
            user=request.user, new_password=params.validated_data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeAvatarView(PrivateNoStoreMixin, APIView):
    """POST multipart `file` → stored 256×256 avatar, `{"avatar": absolute url}`; 503 when the
    file storage is down (old avatar kept)."""

    parser_classes = (MultiPartParser,)

    @extend_schema(request=AvatarSerializer, responses=_AVATAR_BODY)
    def post(self, request):
        params = AvatarSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        user = services.avatar_set(user=request.user, image=params.validated_data["file"])
        return Response({"avatar": absolute_file_url(request, user.avatar)})


# --- Users -------------------------------------------------------------------------------------


class UserViewSet(
    PrivateNoStoreMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """`/users/`: list (teacher), register a student (teacher), open (self / class-mate teacher
    / staff), PATCH (self or staff), DELETE = deactivate (staff)."""

    serializer_class = UserSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action in ("list", "create"):
            return [IsAuthenticated(), IsTeacher()]
        return [IsAuthenticated()]

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            users = selectors.user_list_visible_to(user=user)
            username = self.request.query_params.get("username")
            return users.filter(username__icontains=username) if username else users
        return selectors.user_detail_visible_to(user=user)

    @extend_schema(request=RegisterStudentSerializer, responses={201: UserSerializer})
    def create(self, request, *args, **kwargs):
        from apps.school.services import EnrolmentError, student_register  # school owns it

        params = RegisterStudentSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        try:
            user = student_register(by=request.user, **params.validated_data)
        except EnrolmentError as exc:  # e.g. a username taken since validation
            raise exceptions.ValidationError(exc.errors) from None
        return Response(
            UserSerializer(user, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request, *args, **kwargs):
        target = self.get_object()
        staff = is_staff(request.user)
        if not staff and target.pk != request.user.pk:
            raise exceptions.PermissionDenied()
        if not staff and any(name in request.data for name in UserUpdateSerializer.STAFF_ONLY):
            raise exceptions.PermissionDenied()
        params = UserUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        user = services.user_update(user=target, **params.validated_data)
        return Response(UserSerializer(user, context={"request": request}).data)

    def destroy(self, request, *args, **kwargs):
        target = self.get_object()
        if not is_staff(request.user):
            raise exceptions.PermissionDenied()
        services.user_deactivate(user=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Areas (public reference data, cached in alias "area") ------------------------------------


class AreaKeyConstructor(DefaultKeyConstructor):
    """Cache key: view + method + format + language + URL kwargs + the `users:area` version
    (areas are the same for all; `load_areas` bumps the version)."""

    kwargs = bits.KwargsKeyBit()
    unique_view = bits.UniqueViewIdKeyBit()
    versions = VersionKeyBit()


class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    """GET provinces (unpaginated) / an area with its `subs`; writes → 405; cached 1 h."""

    pagination_class = None
    cache_namespaces = (selectors.AREA_CACHE_NAMESPACE,)  # read with the caller's auth state

    def get_queryset(self):
        if self.action == "list":
            return selectors.area_provinces()
        return selectors.area_with_subs()

    def get_serializer_class(self):
        return AreaSerializer if self.action == "list" else AreaDetailSerializer

    @versioned_cache_response(
        timeout=settings.AREA_CACHE_TIMEOUT, key_func=AreaKeyConstructor(), cache="area"
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @versioned_cache_response(
        timeout=settings.AREA_CACHE_TIMEOUT, key_func=AreaKeyConstructor(), cache="area"
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


# --- Addresses (owner-scoped) ------------------------------------------------------------------


class AddressViewSet(PrivateNoStoreMixin, viewsets.ModelViewSet):
    """The caller's addresses; others' ids → 404. At most 20 live; soft delete."""

    serializer_class = AddressSerializer
    queryset = Address.objects.none()  # for the schema; the real one is per caller

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Address.objects.none()
        return selectors.address_list_for_user(user=self.request.user)

    def get_object(self):
        # DRF's get_object_or_404: a non-integer id (`/address/abc/`) → 404, not a 500
        return drf_get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def perform_create(self, serializer):
        try:
            serializer.instance = services.address_create(
                user=self.request.user, **serializer.validated_data
            )
        except services.AddressLimitReached as exc:
            raise exceptions.ValidationError({"non_field_errors": [exc.message]}) from None

    def perform_update(self, serializer):
        serializer.instance = services.address_update(
            address=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.address_delete(address=instance)
