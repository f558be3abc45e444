"""Generic Elasticsearch helpers shared by the apps' search modules (API.md §3 indices).

Every index is an alias `<ELASTICSEARCH_INDEX_PREFIX><name>` over one versioned index
`<prefix><name>_v<UTC timestamp>`, so a rebuild loads a fresh index and swaps the alias atomically
(zero downtime). The first index of an alias gets the fixed name `<prefix><name>_v0` so two workers
that create it at once cannot end up with two write indices.

Errors: a cluster that cannot be reached (connection refused/reset, timeout) or that answers 5xx is
raised as `utils.exceptions.SearchUnavailable` by `unavailable_as_503()`; other API errors propagate.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from utils.exceptions import SearchUnavailable

logger = logging.getLogger(__name__)

# Analyzers tried in order at index creation: (index analyzer, search analyzer).
CHINESE_ANALYZERS: tuple[tuple[str, str], ...] = (
    ("ik_max_word", "ik_smart"),  # IK plugin
    ("smartcn", "smartcn"),  # analysis-smartcn plugin
    ("cjk", "cjk"),  # analysis-common module (CJK bigrams)
    ("standard", "standard"),  # always there: one token per Han character
)
BULK_CHUNK = 1000  # documents per bulk request
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- client and names ------------------------------------------------------------------------------


@functools.cache
def _client(url: str, timeout: float) -> Elasticsearch:
    return Elasticsearch(url, request_timeout=timeout, max_retries=1, retry_on_timeout=True)


def get_client() -> Elasticsearch:
    """The process-wide client for `settings.ELASTICSEARCH_URL` (`ELASTICSEARCH_TIMEOUT` seconds).

    Raises `SearchUnavailable` when no URL is configured (database search backend).
    """
    url = settings.ELASTICSEARCH_URL
    if not url:
        raise SearchUnavailable(reason="ELASTICSEARCH_URL is not set")
    return _client(url, float(settings.ELASTICSEARCH_TIMEOUT))


def alias_name(name: str) -> str:
    """The alias clients read and write: `<ELASTICSEARCH_INDEX_PREFIX><name>`, e.g. `test_topic`."""
    return f"{settings.ELASTICSEARCH_INDEX_PREFIX}{name}"


def versioned_name(name: str, *, initial: bool = False) -> str:
    """A new concrete index name `<prefix><name>_v<YYYYmmddHHMMSSffffff>` (`_v0` when `initial`)."""
    suffix = "0" if initial else datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    return f"{alias_name(name)}_v{suffix}"


def is_unavailable(exc: BaseException) -> bool:
    """True for errors meaning "the cluster cannot serve now": transport failures and HTTP 5xx."""
    if isinstance(exc, ApiError):
        return exc.meta.status >= 500
    return isinstance(exc, TransportError | ConnectionError | TimeoutError)


@contextlib.contextmanager
def unavailable_as_503() -> Iterator[None]:
    """Translate unreachable-cluster errors (see `is_unavailable`) into `SearchUnavailable`."""
    try:
        yield
    except SearchUnavailable:
        raise
    except Exception as exc:
        if is_unavailable(exc):
            logger.warning("elasticsearch unavailable: %s", exc)
            raise SearchUnavailable() from exc
        raise


# --- analyzers -------------------------------------------------------------------------------------


def analyzer_exists(client: Elasticsearch, analyzer: str) -> bool:
    """Whether the cluster knows the global analyzer `analyzer` (tried with `_analyze`)."""
    try:
        client.indices.analyze(analyzer=analyzer, text="中文检索")
    except ApiError as exc:
        if exc.meta.status == 400:
            return False
        raise
    return True


def chinese_analyzers(client: Elasticsearch) -> tuple[str, str]:
    """`(index_analyzer, search_analyzer)`: IK when installed, else smartcn, cjk, then standard."""
    for index_analyzer, search_analyzer in CHINESE_ANALYZERS:
        if analyzer_exists(client, index_analyzer):
            return index_analyzer, search_analyzer
    return "standard", "standard"  # pragma: no cover - `standard` always exists


def index_settings() -> dict[str, Any]:
    """Shard/replica settings from `ELASTICSEARCH_SHARDS` / `ELASTICSEARCH_REPLICAS`."""
    return {
        "number_of_shards": settings.ELASTICSEARCH_SHARDS,
        "number_of_replicas": settings.ELASTICSEARCH_REPLICAS,
    }


# --- aliases and versioned indices -----------------------------------------------------------------


def alias_indices(client: Elasticsearch, name: str) -> list[str]:
    """Concrete indices behind alias `name` (prefixed), [] when the alias does not exist."""
    try:
        return sorted(client.indices.get_alias(name=alias_name(name)).body)
    except NotFoundError:
        return []


def create_index(client: Elasticsearch, index: str, body: Mapping[str, Any]) -> None:
    """Create concrete index `index` with `body` (`settings`, `mappings`, optional `aliases`)."""
    client.indices.create(index=index, **dict(body))


def ensure_alias(client: Elasticsearch, name: str, body_factory: Callable[[], dict]) -> str:
    """Make sure alias `name` exists; create `<prefix><name>_v0` with it when missing.

    `body_factory()` → index body (`settings`, `mappings`). Safe against concurrent callers (the
    loser's `resource_already_exists_exception` is ignored). Returns the alias.
    """
    alias = alias_name(name)
    if client.indices.exists_alias(name=alias):
        return alias
    if client.indices.exists(index=alias):  # a concrete index squatting on the alias name
        raise SearchUnavailable(reason=f"index {alias} exists without alias; run a rebuild")
    body = dict(body_factory())
    body["aliases"] = {alias: {"is_write_index": True}}
    try:
        create_index(client, versioned_name(name, initial=True), body)
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
    return alias


def swap_alias(
    client: Elasticsearch, name: str, new_index: str, *, delete_old: bool = True
) -> list[str]:
    """Point alias `name` at `new_index` alone in ONE `_aliases` request (atomic for readers).

    A concrete index occupying the alias name is removed in the same request. Old indices are
    deleted afterwards when `delete_old`. Returns the indices the alias pointed at before.
    """
    alias = alias_name(name)
    old = [i for i in alias_indices(client, name) if i != new_index]
    actions: list[dict[str, Any]] = [
        {"add": {"index": new_index, "alias": alias, "is_write_index": True}}
    ]
    actions += [{"remove": {"index": i, "alias": alias}} for i in old]
    if client.indices.exists(index=alias) and not client.indices.exists_alias(name=alias):
        actions.append({"remove_index": {"index": alias}})
    client.indices.update_aliases(actions=actions)
    if delete_old and old:
        client.indices.delete(index=",".join(old), ignore_unavailable=True)
    return old


def delete_prefixed(client: Elasticsearch, pattern: str = "*") -> None:
    """Delete every index `<prefix><pattern>` (tests' cleanup). Refuses an empty prefix."""
    prefix = settings.ELASTICSEARCH_INDEX_PREFIX
    if not prefix:
        raise ValueError("refusing to delete indices without ELASTICSEARCH_INDEX_PREFIX")
    client.indices.delete(
        index=f"{prefix}{pattern}", ignore_unavailable=True, allow_no_indices=True
    )


# --- bulk ------------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    """Outcome of `bulk()`: `ok` actions applied; `conflicts` stale external versions skipped;
    `not_found` deletes of absent documents; `errors` the other failed items (ES item dicts)."""

    ok: int = 0
    conflicts: int = 0
    not_found: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def bulk(
    client: Elasticsearch,
    actions: Iterable[dict[str, Any]],
    *,
    chunk_size: int = BULK_CHUNK,
    refresh: bool | str = False,
    progress: Callable[[int], None] | None = None,
) -> BulkResult:
    """Send `actions` (`helpers.bulk` action dicts) in chunks; `progress(n)` after each item.

    Version conflicts (409: an older state arriving after a newer one under external versioning)
    and deletes of missing documents (404) are expected and counted, not errors. Unreachable
    cluster → `SearchUnavailable`. Returns a `BulkResult`.
    """
    result = BulkResult()
    with unavailable_as_503():
        for ok, item in helpers.streaming_bulk(
            client,
            actions,
            chunk_size=chunk_size,
            raise_on_error=False,
            raise_on_exception=True,
            max_retries=2,
            refresh=refresh,
        ):
            op, info = next(iter(item.items()))
            status = info.get("status", 0)
            if ok and not (op == "delete" and status == 404):
                result.ok += 1
            elif status == 409:
                result.conflicts += 1
            elif op == "delete" and status == 404:
                result.not_found += 1
            else:
                result.errors.append(item)
            if progress is not None:
                progress(1)
    if result.errors:
        logger.error("bulk: %d failed items, first: %s", len(result.errors), result.errors[0])
    return result


# --- reconcile -------------------------------------------------------------------------------------


def index_versions(client: Elasticsearch, name: str, *, batch: int = 5000) -> dict[int, int]:
    """`{doc id: _version}` of every document behind alias `name` (scroll, no `_source`).

    Documents are written with external versions (the row's `update_time` in microseconds), so the
    version is what reconcile compares. Missing alias → {}.
    """
    alias = alias_name(name)
    if not client.indices.exists_alias(name=alias):
        return {}
    versions: dict[int, int] = {}
    for hit in helpers.scan(
        client,
        index=alias,
        query={"query": {"match_all": {}}, "_source": False, "version": True},
        size=batch,
        scroll="2m",
        preserve_order=False,
    ):
        versions[int(hit["_id"])] = int(hit["_version"])
    return versions


@dataclass
class ReconcilePlan:
    """What differs between the database and an index (ids, sorted).

    `missing`: live rows absent from the index; `stale`: indexed with another version;
    `extra`: documents whose row is deleted or gone.
    """

    missing: list[int]
    stale: list[int]
    extra: list[int]

    @property
    def clean(self) -> bool:
        """True when nothing differs."""
        return not (self.missing or self.stale or self.extra)


def reconcile_plan(db: Mapping[int, int], index: Mapping[int, int]) -> ReconcilePlan:
    """Compare `{id: version}` of live DB rows with `{id: version}` of index documents."""
    missing = sorted(i for i in db if i not in index)
    stale = sorted(i for i, v in db.items() if i in index and index[i] != v)
    extra = sorted(i for i in index if i not in db)
    return ReconcilePlan(missing=missing, stale=stale, extra=extra)


def to_version(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch: the external document version."""
    return (moment - EPOCH) // timedelta(microseconds=1)
