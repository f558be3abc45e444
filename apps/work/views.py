"""HTTP endpoints of the question bank (API.md §2.3 labels, §2.4 topics, search, import/export)."""

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.users.roles import IsStaff, IsTeacher
from apps.work import selectors, services, tasks, transfer
from apps.work.filters import TopicFilter
from apps.work.pagination import TopicPagination
from apps.work.permissions import TopicAccess
from apps.work.serializers import (
    SEARCH_WINDOW,
    LabelSerializer,
    StudentTopicSearchSerializer,
    TopicExportParamsSerializer,
    TopicImportSerializer,
    TopicInputSerializer,
    TopicSearchParamsSerializer,
    TopicSerializer,
    render_topic_rows,
    topic_serializer_for,
)
from apps.work.visibility import sees_answers
from utils.cache import (
    VersionedCacheResponseMixin,
    VisibilityKeyConstructor,
    versioned_cache_response,
)
from utils.drf import with_query_params
from utils.throttling import UserRateThrottle

CACHE_NAMESPACES = services.CACHE_NAMESPACES
SEARCH_CACHE_NAMESPACES = (*CACHE_NAMESPACES, "work:search")  # apps.work.search's namespace


class SearchThrottle(UserRateThrottle):
    """Scope `search`: 60/min per user (API.md §1.6)."""

    scope = "search"


class FirstRendererNegotiation(BaseContentNegotiation):
    """Ignore `Accept`: the export answers text/plain whatever the client asks (API.md §2.4)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class LabelViewSet(VersionedCacheResponseMixin, viewsets.ModelViewSet):
    """`/api/work/labels/`: anyone authenticated reads (students: no exam labels); teachers create;
    owner or staff edit/delete (others 403). List and detail are cached per role bucket."""

    serializer_class = LabelSerializer
    permission_classes = (TopicAccess,)
    cache_namespaces = CACHE_NAMESPACES
    list_cache_key_func = VisibilityKeyConstructor()
    object_cache_key_func = VisibilityKeyConstructor()

    def get_queryset(self):
        return selectors.label_list_visible_to(user=self.request.user)

    def perform_create(self, serializer) -> None:
        serializer.instance = services.label_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = services.label_update(
            label=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance) -> None:
        services.label_delete(label=instance)


class TopicListMixin:
    """The topic list rendered from rows (`selectors.topic_rows` + `serializers.render_topic_rows`).

    Sits after `CacheResponseMixin` in the bases, so the cached response wraps it. Same body as
    `ListModelMixin.list` with `topic_serializer_for(user)`, in three queries (page, labels,
    options) plus the count (`TopicPagination`: cached), without model instances or DRF fields.
    """

    def list(self, request, *args: Any, **kwargs: Any) -> Response:
        answers = sees_answers(request.user)
        if not self._filtered():
            # the common case: page + options in two raw queries with the page SQL compiled once
            page = self.paginate_queryset(selectors.TopicPageSource(user=request.user))
            return self.get_paginated_response(render_topic_rows(page, answers=answers))
        topics = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(selectors.topic_rows(topics, answers=answers))
        rows = selectors.topic_rows_complete(list(page))
        return self.get_paginated_response(render_topic_rows(rows, answers=answers))

    def _filtered(self) -> bool:
        return any(name in self.request.query_params for name in TopicFilter.base_filters)

    def filter_queryset(self, queryset):
        # no filter parameter: the filterset (form, fields, validation) would change nothing
        if not self._filtered():
            return queryset
        return super().filter_queryset(queryset)


class TopicViewSet(VersionedCacheResponseMixin, TopicListMixin, viewsets.ModelViewSet):
    """`/api/work/topics/`: the question bank with the role view of API.md §2.4.

    Reads go through `selectors.topic_list_visible_to` (students: no exam topics → 404/absent) and
    render with `topic_serializer_for(user)` (students: no `answer`/`is_correct`). Writes: teachers;
    object writes: owner or staff (other teachers 403). List/detail cached per role bucket with the
    `work:topic`/`work:label` versions, bumped by every write.
    """

    permission_classes = (TopicAccess,)
    filterset_class = TopicFilter
    pagination_class = TopicPagination  # the list's COUNT(*) cached with the versions
    list_cache_key_func = VisibilityKeyConstructor()
    object_cache_key_func = VisibilityKeyConstructor()

    @property
    def cache_namespaces(self) -> tuple[str, ...]:
        """Versions in the cache keys: search bodies also depend on the index (`work:search`)."""
        if getattr(self, "action", None) == "search":
            return SEARCH_CACHE_NAMESPACES
        return CACHE_NAMESPACES

    def get_queryset(self):
        # the list renders from rows (TopicListMixin): no prefetches to build and drop
        prefetch = self.action != "list"
        return selectors.topic_list_visible_to(user=self.request.user, prefetch=prefetch)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return TopicInputSerializer
        return topic_serializer_for(self.request.user)

    def get_throttles(self):
        if self.action == "search":
            return [UserRateThrottle(), SearchThrottle()]
        return super().get_throttles()

    def create(self, request, *args: Any, **kwargs: Any) -> Response:
        params = TopicInputSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        topic = services.topic_create(user=request.user, **params.validated_data)
        return Response(self._teacher_body(topic.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args: Any, **kwargs: Any) -> Response:
        topic = self.get_object()  # 404 outside the caller's view, 403 when not owner/staff
        params = TopicInputSerializer(
            topic,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        params.is_valid(raise_exception=True)
        services.topic_update(topic=topic, data=params.validated_data)
        return Response(self._teacher_body(topic.pk))

    def perform_destroy(self, instance) -> None:
        services.topic_delete(topic=instance)

    def _teacher_body(self, pk: int) -> dict[str, Any]:
        topic = selectors.topic_get_visible(user=self.request.user, pk=pk)
        return TopicSerializer(topic, context=self.get_serializer_context()).data

    # --- search ---------------------------------------------------------------------------------

    @extend_schema(
        parameters=[TopicSearchParamsSerializer],
        responses=inline_serializer(
            "TopicSearchPage",
            {
                "count": drf_serializers.IntegerField(),
                "next": drf_serializers.URLField(allow_null=True),
                "previous": drf_serializers.URLField(allow_null=True),
                # the student view; a teacher/staff caller's rows also carry `answer` etc.
                "results": StudentTopicSearchSerializer(many=True),
            },
        ),
        filters=False,
    )
    @action(detail=False, methods=["get"], permission_classes=(IsAuthenticated,))
    @versioned_cache_response(key_func=VisibilityKeyConstructor())
    def search(self, request, *args: Any, **kwargs: Any) -> Response:
        """Full-text search (API.md §2.4): ES supplies ids/order/count/highlights, the DB the rows.

        Body: `{"count", "next", "previous", "results": [topic (role view) + *_highlight]}`.
        400 bad params, 429 throttled, 503 search down (`SearchUnavailable`).
        Cached per role bucket and query parameters with the `work:topic`, `work:label` (bumped at
        commit by every write) and `work:search` versions (bumped by the index tasks once their
        writes are searchable, see `apps.work.search.search_index_changed`); errors are not cached.
        """
        from apps.work import search as topic_search  # the search helper's module (ES or DB)

        params = TopicSearchParamsSerializer(
            data=request.query_params, context=self.get_serializer_context()
        )
        params.is_valid(raise_exception=True)
        query = dict(params.validated_data)
        label = query.get("label")
        result = topic_search.search_topics(
            user=request.user,
            text=query["text"].strip(),
            type=query.get("type"),
            label=label.pk if label is not None else None,
            offset=query["offset"],
            limit=query["limit"],
        )
        rows = selectors.topic_rows_by_ids(user=request.user, ids=[hit.id for hit in result.hits])
        results = render_topic_rows(
            rows,
            answers=sees_answers(request.user),
            highlights={hit.id: hit.highlight or {} for hit in result.hits},
        )
        return Response(
            {
                "count": result.count,
                "next": self._page_link(query["offset"] + query["limit"], query, result.count),
                "previous": self._page_link(query["offset"] - query["limit"], query, result.count),
                "results": results,
            }
        )

    def _page_link(self, offset: int, query: dict[str, Any], count: int) -> str | None:
        """Absolute URL of the window at `offset` (other params kept), or None past either end."""
        limit = query["limit"]
        if offset == query["offset"] or offset >= count or offset + limit > SEARCH_WINDOW:
            return None
        if offset < 0:
            if query["offset"] == 0:
                return None
            offset = 0
        return with_query_params(self.request.build_absolute_uri(), offset=offset, limit=limit)

    # --- operations -----------------------------------------------------------------------------

    @action(detail=False, methods=["post"], permission_classes=(IsAuthenticated, IsStaff))
    def reindex(self, request, *args: Any, **kwargs: Any) -> Response:
        """Rebuild the `topic` index from the DB in the background: 202 `{"task_id": str}`."""
        result = tasks.topic_rebuild_task.delay()
        return Response({"task_id": result.id}, status=status.HTTP_202_ACCEPTED)

    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        permission_classes=(IsAuthenticated, IsTeacher),
        parser_classes=(MultiPartParser, FormParser),
    )
    def import_topics(self, request, *args: Any, **kwargs: Any) -> Response:
        """Import a GIFT or JSON Lines file into `label`: 200 `{"created": n}`, or 400
        `{"rows": {"<question/line number>": [messages]}}` with nothing written."""
        params = TopicImportSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        upload = params.validated_data["file"]
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return Response({"file": ["The file is not UTF-8 text."]}, status=400)
        rows, errors = transfer.rows_from_file(
            name=upload.name, text=text, context=self.get_serializer_context()
        )
        if errors:
            return Response({"rows": errors}, status=status.HTTP_400_BAD_REQUEST)
        topics = services.topics_bulk_create(
            user=request.user, label=params.validated_data["label"], rows=rows
        )
        return Response({"created": len(topics)})

    @action(
        detail=False,
        methods=["get"],
        permission_classes=(IsAuthenticated, IsTeacher),
        content_negotiation_class=FirstRendererNegotiation,
    )
    def export(self, request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        """Stream the caller-visible topics as a `text/plain; charset=utf-8` attachment."""
        params = TopicExportParamsSerializer(
            data=request.query_params, context=self.get_serializer_context()
        )
        params.is_valid(raise_exception=True)
        file_format = params.validated_data["file_format"]
        topics = selectors.topic_list_visible_to(user=request.user)
        if label := params.validated_data.get("label"):
            topics = topics.filter(label=label)
        response = StreamingHttpResponse(
            transfer.export_chunks(topics.iterator(chunk_size=500), file_format),
            content_type="text/plain; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="topics.{file_format}"'
        return response
