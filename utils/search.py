"""Generic Elasticsearch helpers shared by the apps' search modules (API.md §3 indices).

Every index is an alias `<ELASTICSEARCH_INDEX_PREFIX><name>` over one versioned index
`<prefix><name>_v<UTC timestamp>`, so a rebuild loads a fresh index and swaps the alias atomically
(zero downtime). The first index of an alias gets the fixed name `<prefix><name>_v0` so two workers
that create it at once cannot end up with two write indices.

Model-backed indices (`ModelIndex`: a soft-deletable model, its index body and document) get
generic `sync_ids` (on-commit tasks, with `TASK_RETRY`), `rebuild_index` and `reconcile_index`;
`text_query` / `highlight_request` / `search_ids` build and run searches, `highlight_terms` is the
database backend's highlighter. Used by `apps.community.search` (index `article`) and
`apps.work.search` (index `topic`).

Errors: a cluster that cannot be reached (connection refused/reset, timeout) or that answers 5xx is
raised as `utils.exceptions.SearchUnavailable` by `unavailable_as_503()`; other API errors propagate.
"""

from __future__ import annotations

import contextlib
import functools
import html
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from elasticsearch import (
    ApiError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)
from elasticsearch import ConnectionError as ESConnectionError

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


def index_body(
    client: Elasticsearch, *, text_fields: tuple[str, ...], fields: dict[str, dict]
) -> dict[str, Any]:
    """Settings and explicit (`dynamic: strict`) mapping of a versioned index.

    `text_fields` get the Chinese analyzer the server has (`chinese_analyzers`: IK, smartcn, cjk,
    else `standard`, one token per Han character), recorded in the mapping's `_meta`; `fields`
    are the other properties, as ES mapping dicts. Results are capped at 10,000 (search window).
    """
    index_analyzer, search_analyzer = chinese_analyzers(client)
    text = {"type": "text", "analyzer": index_analyzer, "search_analyzer": search_analyzer}
    return {
        "settings": {**index_settings(), "max_result_window": 10_000},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"analyzer": index_analyzer, "search_analyzer": search_analyzer},
            "properties": {**dict.fromkeys(text_fields, text), **fields},
        },
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


# --- shared by every app's search module (`article` and `topic` indices) ---------------------------

PRE_TAG, POST_TAG = '<em class="hl">', "</em>"
MIN_SHOULD_MATCH = "2<75%"  # queries of ≤2 tokens need all; longer ones 75% of their tokens
PHRASE_WINDOW = 100  # top hits per shard re-ranked by `phrase_rescore`
SYNC_CHUNK = 1000  # rows read per query while syncing
REBUILD_MARGIN = timedelta(seconds=5)  # catch-up window before a rebuild's start
# only what `search_ids` reads: less JSON to send and parse
SEARCH_FILTER_PATH = ("hits.total.value", "hits.hits._id", "hits.hits.highlight")

# Celery options of every index task: retry with jittered exponential backoff while the cluster
# cannot be reached (`SearchUnavailable` also covers bulk items rejected with 429/503).
TASK_RETRY: dict[str, Any] = {
    "autoretry_for": (
        SearchUnavailable,
        ESConnectionError,
        ConnectionTimeout,
        ConnectionError,
        TimeoutError,
    ),
    "retry_backoff": 2,  # seconds, doubled per try
    "retry_backoff_max": 600,  # seconds
    "retry_jitter": True,
    "max_retries": 8,
}


def use_elasticsearch() -> bool:
    """True when the Elasticsearch backend is configured (`SEARCH_BACKEND == "elasticsearch"`)."""
    return settings.SEARCH_BACKEND == "elasticsearch"


def text_query(
    text: str, fields: Sequence[str], *, min_should_match: str = MIN_SHOULD_MATCH
) -> dict[str, Any]:
    """A `bool` query for user text over `fields` (boosts allowed, e.g. `"title^3"`): every hit
    matches `min_should_match` of the analysed tokens (`best_fields`). Filters can be added under
    `["bool"]["filter"]`. Exact phrases rank higher through `phrase_rescore`, not here."""
    return {
        "bool": {
            "must": [
                {
                    "multi_match": {
                        "query": text,
                        "fields": list(fields),
                        "type": "best_fields",
                        "minimum_should_match": min_should_match,
                    }
                }
            ]
        }
    }


def phrase_rescore(text: str, fields: Sequence[str], *, window: int = PHRASE_WINDOW) -> dict:
    """The `rescore` part of a search body: among the top `window` hits (per shard) of
    `text_query`, a hit containing `text` as a phrase in one of `fields` scores
    `query score + 2 × phrase score` — what a `should` phrase clause gives, but the positions are
    read for `window` documents instead of every match (issue 7; see bench/load.py).

    The window is constant, so pages do not shift between requests; hits past it keep the query
    order. Elasticsearch refuses an explicit `sort` with `rescore`: the order is by score, ties in
    index order. Source: Elasticsearch reference, "Filter search results › Rescore filtered search
    results" (`rescore`, `window_size`, `query_weight`, `rescore_query_weight`).
    """
    return {
        "window_size": window,
        "query": {
            "rescore_query": {
                "multi_match": {"query": text, "fields": list(fields), "type": "phrase"}
            },
            "query_weight": 1,
            "rescore_query_weight": 2,
        },
    }


def highlight_request(fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The `highlight` part of a search body: `encoder: html` (all source text escaped), the only
    markup `<em class="hl">…</em>`; `fields` = `{name: options}` (e.g. `{"number_of_fragments": 0}`
    for the whole field, `{"fragment_size": 100, "number_of_fragments": 1}` for one snippet)."""
    return {
        "encoder": "html",
        "pre_tags": [PRE_TAG],
        "post_tags": [POST_TAG],
        "fields": {name: dict(options) for name, options in fields.items()},
    }


@dataclass(frozen=True)
class SearchHit:
    """One hit: document id and `{field: first highlight fragment}` (escaped HTML)."""

    id: int
    highlight: dict[str, str] = field(default_factory=dict)


def search_ids(name: str, body: Mapping[str, Any]) -> tuple[int, list[SearchHit]]:
    """Run `body` against alias `name`: `(total hits, hits in order)`. Missing index → `(0, [])`.

    Only `SEARCH_FILTER_PATH` is asked back (ids, total, highlights). Raises `SearchUnavailable`
    when the cluster cannot be reached (or no URL is configured).
    """
    with unavailable_as_503():
        client = get_client()
        try:
            response = client.search(
                index=alias_name(name), filter_path=list(SEARCH_FILTER_PATH), **dict(body)
            )
        except NotFoundError:
            return 0, []
    hits = [
        SearchHit(
            id=int(hit["_id"]),
            highlight={k: v[0] for k, v in (hit.get("highlight") or {}).items() if v},
        )
        for hit in response["hits"].get("hits", ())  # filter_path drops an empty list
    ]
    return int(response["hits"]["total"]["value"]), hits


# --- database-backend highlights ---------------------------------------------------------------------


def query_terms(text: str) -> list[str]:
    """Distinct whitespace-separated terms of a query, lower-cased, in order."""
    seen: dict[str, None] = {}
    for term in text.split():
        seen.setdefault(term.lower(), None)
    return list(seen)


def highlight_terms(
    value: str | None, terms: Sequence[str], *, fragment: int | None = None
) -> str | None:
    """`value` HTML-escaped with every case-insensitive occurrence of a term wrapped in
    `<em class="hl">` — the database backend's stand-in for an ES highlight. With `fragment`, only
    about that many characters around the first match are kept. None when no term occurs."""
    if not terms or not value:
        return None
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    first = pattern.search(value)
    if first is None:
        return None
    if fragment is not None and len(value) > fragment:
        start = max(0, first.start() - fragment // 4)
        value = value[start : start + fragment]
    out, pos = [], 0
    for match in pattern.finditer(value):
        out.append(html.escape(value[pos : match.start()]))
        out.append(PRE_TAG + html.escape(match.group(0)) + POST_TAG)
        pos = match.end()
    out.append(html.escape(value[pos:]))
    return "".join(out)


# --- model-backed indices: sync, rebuild, reconcile ------------------------------------------------


@dataclass(frozen=True)
class ModelIndex:
    """How rows of a soft-deletable model (`utils.models.ModelsSetMixin`: `is_delete`,
    `update_time`) are mirrored into alias `name` (one document per live row, `_id` = pk).

    `body(client)` → index body (`settings`, `mappings`); `queryset()` → rows with whatever
    `document` needs already joined (deleted rows included); `document(row)` → `_source`.
    Documents carry external versions (`update_time` in µs, `external_gte`), so an older state
    arriving late never overwrites a newer one.

    `on_searchable()` (optional, e.g. a response-cache bump): when set, `sync_ids` returns only once
    its writes are searchable (it refreshes the alias unless `refresh` already waited) and then
    calls it; `rebuild_index` calls it once more after its catch-up.
    """

    name: str
    body: Callable[[Elasticsearch], dict[str, Any]]
    queryset: Callable[[], Any]
    document: Callable[[Any], dict[str, Any]]
    on_searchable: Callable[[], None] | None = None

    def ensure(self, client: Elasticsearch) -> str:
        """The alias, created over an empty `<prefix><name>_v0` when missing."""
        return ensure_alias(client, self.name, lambda: self.body(client))

    def index_action(self, row: Any, index: str) -> dict[str, Any]:
        """Bulk upsert of `row` into `index`, versioned by `row.update_time`."""
        return {
            "_op_type": "index",
            "_index": index,
            "_id": row.pk,
            "version": to_version(row.update_time),
            "version_type": "external_gte",
            "_source": self.document(row),
        }

    @staticmethod
    def delete_action(pk: int, index: str, row: Any | None) -> dict[str, Any]:
        """Bulk delete of document `pk`; for an existing (soft-deleted) row a tombstone one version
        above its `update_time`, so a late upsert of the state before the delete conflicts."""
        action: dict[str, Any] = {"_op_type": "delete", "_index": index, "_id": pk}
        if row is not None:
            action.update(version=to_version(row.update_time) + 1, version_type="external_gte")
        return action


@dataclass
class SyncResult:
    """`indexed` documents written, `deleted` removed, `conflicts` skipped (a newer version is in
    the index), `not_found` deletes of documents that were not there."""

    indexed: int = 0
    deleted: int = 0
    conflicts: int = 0
    not_found: int = 0


def _sync_actions(
    spec: ModelIndex, ids: list[int], index: str, counts: dict[str, int]
) -> Iterator[dict[str, Any]]:
    for start in range(0, len(ids), SYNC_CHUNK):
        chunk = ids[start : start + SYNC_CHUNK]
        rows = {row.pk: row for row in spec.queryset().filter(pk__in=chunk)}
        for pk in chunk:
            row = rows.get(pk)
            if row is not None and not row.is_delete:
                counts["index"] += 1
                yield spec.index_action(row, index)
            else:
                counts["delete"] += 1
                yield spec.delete_action(pk, index, row)


def sync_ids(
    spec: ModelIndex,
    ids: Iterable[int],
    *,
    refresh: bool | str = False,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Mirror rows `ids` into `spec`'s alias: upsert live rows, delete deleted or missing ones.

    Idempotent (external versions); no-op with the database backend; creates the alias when
    missing. With `spec.on_searchable`, waits until the writes are searchable (`refresh`: "wait_for"
    waits for the next refresh; false refreshes the alias now) and then calls it. Raises
    `SearchUnavailable` when the cluster is unreachable or rejects items for load (429/503), so a
    Celery task retries.
    """
    ids = sorted({int(i) for i in ids})
    if not ids or not use_elasticsearch():
        return SyncResult()
    with unavailable_as_503():
        client = get_client()
        alias = spec.ensure(client)
        counts = {"index": 0, "delete": 0}
        result = bulk(
            client, _sync_actions(spec, ids, alias, counts), refresh=refresh, progress=progress
        )
        if spec.on_searchable is not None and not refresh:
            client.indices.refresh(index=alias)  # searchable before `on_searchable`
    if spec.on_searchable is not None:
        spec.on_searchable()
    overloaded = [i for i in result.errors if next(iter(i.values())).get("status") in (429, 503)]
    if overloaded:
        raise SearchUnavailable(reason=f"{len(overloaded)} bulk items rejected")
    deleted = max(counts["delete"] - result.not_found, 0)
    return SyncResult(
        indexed=result.ok - deleted,
        deleted=deleted,
        conflicts=result.conflicts,
        not_found=result.not_found,
    )


@dataclass
class RebuildResult:
    """`index`: the new concrete index; `count` documents loaded; `old` indices dropped;
    `caught_up` rows re-synced after the swap; `seconds` wall time of the load (bulk only)."""

    index: str
    count: int
    old: list[str]
    caught_up: int
    seconds: float


def rebuild_index(
    spec: ModelIndex,
    *,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = BULK_CHUNK,
    refresh: bool | str = False,
) -> RebuildResult:
    """Zero-downtime rebuild: load every live row into a new versioned index (no refresh, no
    replicas while loading), swap the alias in one request, delete the old index, then re-sync
    rows written meanwhile (`update_time` since the start minus `REBUILD_MARGIN`; `refresh` is
    that sync's refresh mode) and call `spec.on_searchable` when set.

    `on_total(n)` gets the number of rows, `progress(k)` counts documents sent. Raises
    `SearchUnavailable` (unreachable / database backend) or `RuntimeError` (items rejected; the
    new index is dropped and the alias untouched).
    """
    if not use_elasticsearch():
        raise SearchUnavailable(reason="the database search backend has no index")
    started = timezone.now()
    with unavailable_as_503():
        client = get_client()
        new = versioned_name(spec.name)
        body = spec.body(client)
        body["settings"] = {**body.get("settings", {}), "refresh_interval": "-1"}
        body["settings"]["number_of_replicas"] = 0
        create_index(client, new, body)
        try:
            live = spec.queryset().filter(is_delete=False)
            if on_total is not None:
                on_total(live.count())
            began = time.perf_counter()
            result = bulk(
                client,
                (
                    spec.index_action(row, new)
                    for row in live.order_by("pk").iterator(chunk_size=chunk_size)
                ),
                chunk_size=chunk_size,
                progress=progress,
            )
            seconds = time.perf_counter() - began
            if result.errors:
                raise RuntimeError(f"{len(result.errors)} documents rejected: {result.errors[0]}")
            client.indices.put_settings(
                index=new,
                settings={
                    "refresh_interval": None,
                    "number_of_replicas": settings.ELASTICSEARCH_REPLICAS,
                },
            )
            client.indices.refresh(index=new)
        except BaseException:
            client.indices.delete(index=new, ignore_unavailable=True)
            raise
        old = swap_alias(client, spec.name, new)
    changed = list(
        spec.queryset()
        .filter(update_time__gte=started - REBUILD_MARGIN)
        .values_list("pk", flat=True)
    )
    sync_ids(spec, changed, refresh=refresh)
    if spec.on_searchable is not None:
        spec.on_searchable()
    logger.info("%s index rebuilt: %s (%d docs, old %s)", spec.name, new, result.ok, old)
    return RebuildResult(
        index=new, count=result.ok, old=old, caught_up=len(changed), seconds=seconds
    )


@dataclass
class ReconcileResult:
    """Counts found before fixing: `missing`, `stale`, `extra` (see `ReconcilePlan`); `db` live
    rows and `indexed` documents compared; `fixed` whether repairs were sent; `conflicts` repairs
    refused because the index holds a higher version (e.g. a delete tombstone younger than
    `index.gc_deletes`, 60 s): the next reconcile retries them."""

    missing: int
    stale: int
    extra: int
    db: int
    indexed: int
    fixed: bool
    conflicts: int = 0


def reconcile_index(
    spec: ModelIndex,
    *,
    fix: bool = True,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    refresh: bool | str = False,
) -> ReconcileResult:
    """Compare live rows with `spec`'s documents by id and version (`update_time`) and, when
    `fix`, re-sync missing/stale ids and delete extra documents.

    `on_total(n)` gets the number of repairs, `progress(k)` counts them. Creates the alias when
    missing (then every row is "missing"). Raises `SearchUnavailable` when unreachable or with
    the database backend.
    """
    if not use_elasticsearch():
        raise SearchUnavailable(reason="the database search backend has no index")
    with unavailable_as_503():
        client = get_client()
        alias = spec.ensure(client)
        client.indices.refresh(index=alias)  # recent writes count as indexed, not missing
        db = {
            pk: to_version(updated)
            for pk, updated in spec.queryset()
            .filter(is_delete=False)
            .values_list("pk", "update_time")
            .iterator(chunk_size=5000)
        }
        indexed = index_versions(client, spec.name)
        plan = reconcile_plan(db, indexed)
        repairs = plan.missing + plan.stale + plan.extra
        if on_total is not None:
            on_total(len(repairs))
        synced = SyncResult()
        if fix and repairs:
            synced = sync_ids(spec, repairs, refresh=refresh, progress=progress)
    return ReconcileResult(
        missing=len(plan.missing),
        stale=len(plan.stale),
        extra=len(plan.extra),
        db=len(db),
        indexed=len(indexed),
        fixed=fix and bool(repairs),
        conflicts=synced.conflicts,
    )
