"""Community endpoints: `/api/community/articles/`, `/api/community/comments/` (API.md §2.5)."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import IntegerField
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework_extensions.settings import extensions_api_settings

from apps.community import pageviews, search, selectors, services
from apps.community.models import Article, Comment
from apps.community.serializers import (
    ArticleSearchHitSerializer,
    ArticleSearchQuerySerializer,
    ArticleSerializer,
    ArticleWriteSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    render_subtree,
    render_threads,
)
from apps.users.roles import IsOwnerOrStaffForWrite, is_staff
from utils.cache import VisibilityKeyConstructor
from utils.throttling import ScopedRateThrottle

ID_MAX = 2**63 - 1  # the largest primary key (BigAutoField, SQLite INTEGER)


def _positive_int(request: Request, name: str, *, required: bool) -> int | None:
    """Query parameter `name` as an id in 1..ID_MAX, None when absent and not `required`.

    Raises DRF ValidationError `{name: [str]}` (400) when missing but required, not an integer,
    below 1 or above ID_MAX (SQLite cannot bind bigger integers: OverflowError, a 500).
    """
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise exceptions.ValidationError({name: ["This field is required."]})
        return None
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: ["A valid integer is required."]}) from None
    if value < 1:
        raise exceptions.ValidationError({name: ["A valid integer is required."]})
    if value > ID_MAX:
        message = IntegerField.default_error_messages["max_value"].format(max_value=ID_MAX)
        raise exceptions.ValidationError({name: [message]})
    return value


def _with_exact_page_views(
    items: list[dict[str, Any]], extra: dict[int, int] | None = None
) -> None:
    """Set each item's `page_view` = stored count + pending Redis count (+ `extra`), in place."""
    ids = [item["id"] for item in items]
    stored = selectors.article_page_views(ids)
    pending = extra if extra is not None else pageviews.pending(ids)
    for item in items:
        item["page_view"] = stored.get(item["id"], item["page_view"]) + pending.get(item["id"], 0)


class ArticleViewSet(viewsets.ModelViewSet):
    """Articles: list (`?user=`, newest first), create, detail (counts a view), owner/staff
    update and soft delete, and `search/`.

    List and detail bodies are cached per visibility bucket under namespace `community:article`
    (bumped by every write); `page_view` is filled in after the cache, so it is exact.
    """

    serializer_class = ArticleSerializer
    permission_classes = [IsAuthenticated, IsOwnerOrStaffForWrite]
    cache_namespaces = ("community:article",)
    cache_key = VisibilityKeyConstructor()

    def get_queryset(self):
        if self.action == "list":
            return selectors.article_list(
                user_id=_positive_int(self.request, "user", required=False)
            )
        return selectors.article_list()

    def get_throttles(self):
        if self.action == "search":
            self.throttle_scope = "search"
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    # --- cached reads -------------------------------------------------------------------------

    def _cached(self, method: Any, request: Request, compute: Any, **kwargs: Any) -> Any:
        key = self.cache_key(
            view_instance=self, view_method=method, request=request, args=(), kwargs=kwargs
        )
        cache = caches[extensions_api_settings.DEFAULT_USE_CACHE]
        data = cache.get(key)
        if data is None:
            data = compute()
            cache.set(key, data, extensions_api_settings.DEFAULT_CACHE_RESPONSE_TIMEOUT)
        return data

    @extend_schema(parameters=[OpenApiParameter("user", OpenApiTypes.INT)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Page of live articles, newest first; `?user=` filters by author; no view counted."""
        data = self._cached(
            self.list, request, lambda: super(ArticleViewSet, self).list(request).data
        )
        _with_exact_page_views(data["results"])
        return Response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The article; counts one view first (exact, see `apps.community.pageviews`)."""

        def compute() -> dict[str, Any]:
            return self.get_serializer(self.get_object()).data

        data = dict(self._cached(self.retrieve, request, compute, **kwargs))
        pending = pageviews.increment(data["id"])
        _with_exact_page_views([data], {data["id"]: pending})
        return Response(data)

    # --- writes -----------------------------------------------------------------------------------

    @extend_schema(request=ArticleWriteSerializer, responses={201: ArticleSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = ArticleWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        article = services.article_create(user=request.user, **params.validated_data)
        return Response(self.get_serializer(article).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ArticleWriteSerializer, responses={200: ArticleSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        article = self.get_object()  # 404 unknown/deleted, 403 not owner nor staff
        params = ArticleWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        article = services.article_update(article=article, **params.validated_data)
        data = dict(self.get_serializer(article).data)
        _with_exact_page_views([data])
        return Response(data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.article_delete(article=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- search -----------------------------------------------------------------------------------

    @extend_schema(
        parameters=[ArticleSearchQuerySerializer],
        responses={200: ArticleSearchHitSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], url_path="search")
    def search(self, request: Request) -> Response:
        """`{"count", "next", "previous", "results": [Article + title_highlight,
        content_highlight]}`; `offset`/`limit` paging. Elasticsearch when configured (503 when
        unreachable), else the database (`apps.community.search`)."""
        params = ArticleSearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        text = params.validated_data["text"].strip()
        offset, limit = params.validated_data["offset"], params.validated_data["limit"]
        count, hits = search.article_search(text=text, offset=offset, limit=limit)
        results = []
        for hit in hits:
            item = dict(ArticleSerializer(hit.article, context={"request": request}).data)
            item["title_highlight"] = hit.title_highlight
            item["content_highlight"] = hit.content_highlight
            results.append(item)
        _with_exact_page_views(results)
        url = request.build_absolute_uri()
        next_url = previous_url = None
        if offset + limit < count:
            next_url = replace_query_param(url, "offset", offset + limit)
        if offset > 0:
            prev = max(0, offset - limit)
            previous_url = (
                replace_query_param(url, "offset", prev)
                if prev
                else remove_query_param(url, "offset")
            )
        return Response(
            {"count": count, "next": next_url, "previous": previous_url, "results": results}
        )


class CanDeleteComment(BasePermission):
    """Comment reads (safe methods): any authenticated caller (API.md §2.5); delete: its
    author, the article's author, or staff (others → 403)."""

    def has_object_permission(self, request: Request, view: Any, obj: Comment) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return obj.user_id == user.pk or obj.article.user_id == user.pk or is_staff(user)


class CommentViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Comments: thread pages per article (`?article=` required), create, detail with replies,
    soft delete. No update: PUT/PATCH → 405.

    A page of threads costs a constant number of queries (page + all replies of the page), read
    as rows and rendered to dicts without model instances (`render_threads`).
    """

    serializer_class = CommentSerializer
    permission_classes = [IsAuthenticated, CanDeleteComment]
    queryset = Comment.objects.none()  # schema only; reads go through selectors

    def get_object(self) -> Comment:
        try:
            comment_id = int(self.kwargs["pk"])
        except ValueError:  # the router accepts any segment: `/comments/abc/` → 404, not 500
            raise Http404 from None
        comment = selectors.comment_get(comment_id=comment_id)
        if comment is None:
            raise Http404
        self.check_object_permissions(self.request, comment)
        return comment

    @extend_schema(parameters=[OpenApiParameter("article", OpenApiTypes.INT, required=True)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Top-level comments of the article, newest first, each with its nested replies."""
        article_id = _positive_int(request, "article", required=True)
        article = Article.objects.filter(pk=article_id, is_delete=False).first()
        if article is None:
            raise Http404
        page = self.paginate_queryset(selectors.comment_roots(article=article))
        replies = selectors.thread_replies(root_ids=[row[0] for row in page])
        return self.get_paginated_response(render_threads(page, replies, request))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        comment = self.get_object()
        rows = selectors.thread_rows(comment=comment)
        return Response(render_subtree(rows, comment.pk, request))

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = CommentCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            comment = services.comment_create(user=request.user, **params.validated_data)
        except DjangoValidationError as exc:  # parent of another article, thread too deep
            raise exceptions.ValidationError(as_serializer_error(exc)) from None
        rows = selectors.thread_rows(comment=comment)
        return Response(render_subtree(rows, comment.pk, request), status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.comment_delete(comment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
