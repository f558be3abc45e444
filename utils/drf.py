"""DRF glue shared by every app: the one exception handler, page-number pagination, page links."""

import logging
from typing import Any
from urllib import parse

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import Http404
from rest_framework import exceptions, pagination, routers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from utils.exceptions import DomainError

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every error in API.md §1.5's shape.

    DRF errors keep DRF's body (`detail` or field errors); `DomainError` becomes
    `{"detail", "code", **extra}` with its status; anything else is logged and answered
    500 `{"detail": "Internal server error."}` without a traceback.
    """
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None:
        if response.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    view = context.get("view")
    if isinstance(exc, DatabaseError):
        logger.exception("database error in %s", type(view).__name__)
        return Response({"detail": "Database is temporarily unavailable."}, status=503)
    logger.exception("unhandled error in %s", type(view).__name__)
    return Response({"detail": "Internal server error."}, status=500)


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` (≥1, default 1) and `?size=` (1–100, default 10); out-of-range page → 404.

    Body: `{"count": int, "next": url|null, "previous": url|null, "results": [...]}`.
    """

    page_size = 10
    page_size_query_param = "size"
    max_page_size = 100

    def get_page_size(self, request: Any) -> int:
        """Return the requested page size; a non-integer or out-of-range `size` → 400."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise exceptions.ValidationError({"size": ["A valid integer is required."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"size": [f"Ensure this value is between 1 and {self.max_page_size}."]}
            )
        return size


def with_query_params(url: str, **params: Any) -> str:
    """`url` with each of `params` set to one value (`str(value)`); other parameters kept.

    The same URL as chaining DRF's `rest_framework.utils.urls.replace_query_param` once per
    parameter (query re-encoded with keys sorted), but the query is parsed and encoded once.
    """
    scheme, netloc, path, query, fragment = parse.urlsplit(str(url))
    values = parse.parse_qs(query, keep_blank_values=True)
    for key, value in params.items():
        values[str(key)] = [str(value)]
    query = parse.urlencode(sorted(values.items()), doseq=True)
    return parse.urlunsplit((scheme, netloc, path, query, fragment))


class ApiRouter(routers.DefaultRouter):
    """DRF's `DefaultRouter` (the API root view and the routes) without format-suffix routes.

    `DefaultRouter` doubles every route with a `.json`-style suffix twin (`/api/users/area.json`),
    which API.md does not offer (JSON is the only format) and which every request's URL resolution
    tries in turn.
    """

    include_format_suffixes = False
