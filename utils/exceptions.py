"""Domain errors raised by services and rendered by `utils.drf.exception_handler` (API.md §1.5)."""

from typing import Any


class DomainError(Exception):
    """A business-rule failure with an HTTP status, a stable `code` and extra body keys.

    `DomainError(message=None, **extra)` renders as `{"detail": message, "code": code, **extra}`.
    """

    status_code = 400
    code = "invalid"
    default_message = "Invalid request."

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def __reduce__(self) -> tuple:
        # Celery pickles/serialises exceptions across retries: rebuild from message and extra,
        # not by calling a subclass's own __init__ with the rendered message
        return (_rebuild, (type(self), self.message, self.extra))


def _rebuild(cls: type[DomainError], message: str, extra: dict[str, Any]) -> DomainError:
    error = cls.__new__(cls)
    DomainError.__init__(error, message, **extra)
    return error


class Conflict(DomainError):
    """A state conflict (409)."""

    status_code = 409
    code = "conflict"
    default_message = "Conflict."


class ServiceUnavailable(DomainError):
    """A dependency (search, Redis, file storage, ...) is down (503)."""

    status_code = 503
    code = "service_unavailable"
    default_message = "A service is temporarily unavailable."

    def __init__(self, service: str | None = None, **extra: Any) -> None:
        message = f"{service} is temporarily unavailable." if service else None
        super().__init__(message, **extra)


class SearchUnavailable(ServiceUnavailable):
    """Elasticsearch is unreachable (503)."""

    def __init__(self, **extra: Any) -> None:
        super().__init__("Search", **extra)


class StorageUnavailable(ServiceUnavailable):
    """The file storage (FastDFS) is unreachable (503)."""

    def __init__(self, **extra: Any) -> None:
        super().__init__("File storage", **extra)


class CacheUnavailable(ServiceUnavailable):
    """Redis (captcha / login state) is unreachable (503)."""

    def __init__(self, **extra: Any) -> None:
        super().__init__("Cache", **extra)
