"""Classes endpoints and enrolment (API.md §2.2). Thin: rules live in services/selectors."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.school import selectors, services
from apps.school.models import Classes
from apps.school.permissions import ClassesPermission
from apps.school.serializers import (
    ClassesInputSerializer,
    ClassesSerializer,
    EnrolmentInputSerializer,
    EnrolmentResultSerializer,
)
from utils.throttling import ScopedRateThrottle, UserRateThrottle


class ClassesViewSet(viewsets.ModelViewSet):
    """`/api/school/classes/`: list/create/retrieve/update/destroy, `last/` and `{id}/enrol/`.

    Visibility: staff all classes, others the classes they are members of (others → 404).
    Writes: owner or staff (other members → 403). Enrol: a teacher member or staff.
    """

    serializer_class = ClassesSerializer
    permission_classes = [ClassesPermission]
    throttle_scope: str | None = None  # set to "enrol" on the enrol action

    def get_queryset(self):
        return selectors.classes_list_visible_to(user=self.request.user)

    def _reload(self, classes: Classes) -> Classes:
        """The class again with members prefetched, for the response."""
        return self.get_queryset().get(pk=classes.pk)

    @extend_schema(request=ClassesInputSerializer, responses={201: ClassesSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        params = ClassesInputSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        classes = services.classes_create(user=request.user, **params.validated_data)
        data = ClassesSerializer(self._reload(classes), context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ClassesInputSerializer, responses={200: ClassesSerializer})
    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        classes = self.get_object()
        params = ClassesInputSerializer(
            data=request.data, partial=partial, context={"request": request}
        )
        params.is_valid(raise_exception=True)
        services.classes_update(
            classes=classes, fields=params.validated_data.keys(), **params.validated_data
        )
        data = ClassesSerializer(self._reload(classes), context={"request": request}).data
        return Response(data)

    def perform_destroy(self, instance: Classes) -> None:
        services.classes_delete(classes=instance)

    @action(detail=False, methods=["get"])
    def last(self, request: Request) -> Response:
        """The most recently created class visible to the caller; 404 when there is none."""
        classes = selectors.classes_last_visible_to(user=request.user)
        if classes is None:
            raise NotFound()
        return Response(ClassesSerializer(classes, context={"request": request}).data)

    @extend_schema(request=EnrolmentInputSerializer, responses={200: EnrolmentResultSerializer})
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[JSONParser, MultiPartParser],
        throttle_classes=[UserRateThrottle, ScopedRateThrottle],
        throttle_scope="enrol",
    )
    def enrol(self, request: Request, pk=None) -> Response:
        """Enrol students from JSON `students` or a CSV `file`; `{"created", "added",
        "already_member"}`; 400 `{"rows": {...}}` with nothing written on any bad row."""
        classes = self.get_object()
        row_numbers = None
        try:
            upload = request.FILES.get("file")
            if upload is not None:
                if upload.size > services.ENROLMENT_MAX_FILE_SIZE:
                    raise ValidationError({"file": ["File too large (max 2 MB)."]})
                rows, row_numbers = services.enrolment_rows_from_csv(upload.read())
            else:
                params = EnrolmentInputSerializer(data=request.data)
                params.is_valid(raise_exception=True)
                rows = params.validated_data["students"]
            result = services.enrol_students(
                classes=classes, rows=rows, by=request.user, row_numbers=row_numbers
            )
        except services.EnrolmentError as exc:
            raise ValidationError(exc.errors) from None
        return Response(result)
