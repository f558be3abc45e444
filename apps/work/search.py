"""Topic search and the Elasticsearch `topic` index (API.md §2.4 "Search", §3 index `topic`).

Two backends answer `search_topics` with the same `SearchResult` shape:

* `settings.SEARCH_BACKEND == "elasticsearch"` (ELASTICSEARCH_URL set): the alias
  `<ELASTICSEARCH_INDEX_PREFIX>topic` over a versioned index (see `utils.search`). Documents are
  written with external versions (`update_time` in µs, `version_type=external_gte`), so an older
  state arriving late never overwrites a newer one and reconcile compares versions by id.
* `"database"` (the embedded default): `icontains` through the visibility selector, highlights made
  by escaping the text and wrapping matches in `<em class="hl">`.

The database is the source of truth: `sync_topics` mirrors rows into the index (called from
`apps.work.tasks` after commit), `rebuild` reloads everything with an atomic alias swap and
`reconcile` repairs drift (missing / stale / extra documents).
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from elasticsearch import Elasticsearch, NotFoundError

from apps.work.models import Topic, TopicOption
from apps.work.selectors import topic_list_visible_to
from apps.work.visibility import sees_answers, sees_exam
from utils import cache as response_cache
from utils import search as es
from utils.exceptions import SearchUnavailable

logger = logging.getLogger(__name__)

TOPIC = "topic"  # alias name without prefix
PRE_TAG, POST_TAG = '<em class="hl">', "</em>"
HIGHLIGHT_FIELDS = ("subject", "description")
STUDENT_FIELDS = ("subject^3", "description")
TEACHER_FIELDS = (*STUDENT_FIELDS, "answer", "options")
MIN_SHOULD_MATCH = "2<75%"  # queries of ≤2 tokens need all; longer ones 75% of their tokens
SYNC_CHUNK = 1000  # rows read per query while syncing
REBUILD_MARGIN = timedelta(seconds=5)
SEARCH_CACHE_NAMESPACE = "work:search"  # response-cache version of search bodies (see views)
# only what `_es_search` reads: less JSON to send and parse
SEARCH_FILTER_PATH = [
    "hits.total.value",
    "hits.hits._id",
    "hits.hits.highlight",
]  # catch-up window before the rebuild's start


@dataclass(frozen=True)
class Hit:
    """One search hit: topic `id` and highlights `{"subject"|"description": escaped html}`."""

    id: int
    highlight: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResult:
    """`count`: total matches visible to the caller; `hits`: the requested window, in order."""

    count: int
    hits: list[Hit]


def use_elasticsearch() -> bool:
    """True when the Elasticsearch backend is configured (`SEARCH_BACKEND == "elasticsearch"`)."""
    return settings.SEARCH_BACKEND == "elasticsearch"


# --- the index -------------------------------------------------------------------------------------


def topic_index_body(client: Elasticsearch) -> dict[str, Any]:
    """Settings and explicit mapping of a `topic` index (API.md §3); analyzer picked from the server.

    Text fields (`subject`, `description`, `answer`, `options`) use IK (`ik_max_word`/`ik_smart`)
    when installed, else smartcn, `cjk`, or `standard` (one token per Han character). The choice is
    recorded in the mapping's `_meta`.
    """
    index_analyzer, search_analyzer = es.chinese_analyzers(client)
    text = {"type": "text", "analyzer": index_analyzer, "search_analyzer": search_analyzer}
    return {
        "settings": {**es.index_settings(), "max_result_window": 10_000},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"analyzer": index_analyzer, "search_analyzer": search_analyzer},
            "properties": {
                "id": {"type": "long"},
                "subject": text,
                "description": text,
                "answer": text,
                "options": text,
                "type": {"type": "byte"},
                "score": {"type": "float"},
                "label": {"type": "long"},
                "label_name": {"type": "keyword"},
                "label_is_exam": {"type": "boolean"},
                "user": {"type": "long"},
                "create_time": {"type": "date"},
                "update_time": {"type": "date"},
            },
        },
    }


def ensure_topic_alias(client: Elasticsearch) -> str:
    """The `topic` alias, created (empty index `<prefix>topic_v0`) when missing."""
    return es.ensure_alias(client, TOPIC, lambda: topic_index_body(client))


def topic_document(topic: Topic) -> dict[str, Any]:
    """The index document of `topic` (label and options must be loaded or loadable)."""
    return {
        "id": topic.pk,
        "subject": topic.subject,
        "description": topic.description,
        "answer": topic.answer,
        "options": [option.text for option in topic.options.all()],
        "type": topic.type,
        "score": topic.score,
        "label": topic.label_id,
        "label_name": topic.label.name,
        "label_is_exam": topic.label.is_exam,
        "user": topic.user_id,
        "create_time": topic.create_time.isoformat(),
        "update_time": topic.update_time.isoformat(),
    }


def _index_action(topic: Topic, index: str) -> dict[str, Any]:
    return {
        "_op_type": "index",
        "_index": index,
        "_id": topic.pk,
        "version": es.to_version(topic.update_time),
        "version_type": "external_gte",
        "_source": topic_document(topic),
    }


def _delete_action(topic_id: int, index: str, topic: Topic | None) -> dict[str, Any]:
    action: dict[str, Any] = {"_op_type": "delete", "_index": index, "_id": topic_id}
    if topic is not None:
        # Soft-deleted row (`topic_delete` does not touch update_time): a tombstone one version
        # above the last indexed state makes a late, stale upsert of that state a conflict.
        action.update(version=es.to_version(topic.update_time) + 1, version_type="external_gte")
    return action


def _indexable() -> Any:
    return Topic.objects.select_related("label").prefetch_related("options")


# --- search ----------------------------------------------------------------------------------------


def search_topics(
    *,
    user: Any,
    text: str,
    type: int | None = None,  # the contract's parameter name
    label: int | None = None,
    offset: int = 0,
    limit: int = 10,
) -> SearchResult:
    """Search the topics `user` may see (API.md §2.4). Source: ES, or the DB in the embedded default.

    `text` (already trimmed) is matched over `subject` (boost 3) and `description`, plus `answer`
    and option texts for teachers/staff; empty → every visible topic, newest `update_time` first.
    `type` / `label` filter. Non-teachers never get exam-label topics. Highlights (`encoder: html`,
    `<em class="hl">…</em>`) only of `subject` / `description`. Missing index → count 0.
    Raises `SearchUnavailable` when Elasticsearch cannot be reached.
    """
    if use_elasticsearch():
        return _es_search(user, text, type, label, offset, limit)
    return _db_search(user, text, type, label, offset, limit)


def build_query(
    *, user: Any, text: str, type: int | None, label: int | None, offset: int, limit: int
) -> dict[str, Any]:
    """The Elasticsearch request body of `search_topics` (exposed for tests and the benchmark)."""
    filters: list[dict[str, Any]] = []
    if type is not None:
        filters.append({"term": {"type": type}})
    if label is not None:
        filters.append({"term": {"label": label}})
    if not sees_exam(user):
        filters.append({"term": {"label_is_exam": False}})
    body: dict[str, Any] = {
        "from": offset,
        "size": limit,
        "track_total_hits": True,
        "_source": False,
    }
    if not text:
        body["query"] = {"bool": {"filter": filters}}
        body["sort"] = [{"update_time": "desc"}, {"id": "desc"}]
        return body
    fields = list(TEACHER_FIELDS if sees_answers(user) else STUDENT_FIELDS)
    body["query"] = {
        "bool": {
            "must": [
                {
                    "multi_match": {
                        "query": text,
                        "fields": fields,
                        "type": "best_fields",
                        "minimum_should_match": MIN_SHOULD_MATCH,
                    }
                }
            ],
            "should": [
                {"multi_match": {"query": text, "fields": fields, "type": "phrase", "boost": 2}}
            ],
            "filter": filters,
        }
    }
    body["sort"] = ["_score", {"update_time": "desc"}, {"id": "desc"}]
    body["highlight"] = {
        "encoder": "html",
        "pre_tags": [PRE_TAG],
        "post_tags": [POST_TAG],
        "fields": {name: {"number_of_fragments": 0} for name in HIGHLIGHT_FIELDS},
    }
    return body


def _es_search(
    user: Any, text: str, type: int | None, label: int | None, offset: int, limit: int
) -> SearchResult:
    body = build_query(user=user, text=text, type=type, label=label, offset=offset, limit=limit)
    with es.unavailable_as_503():
        client = es.get_client()
        try:
            response = client.search(
                index=es.alias_name(TOPIC), filter_path=SEARCH_FILTER_PATH, **body
            )
        except NotFoundError:
            return SearchResult(count=0, hits=[])
    hits = [
        Hit(
            id=int(hit["_id"]),
            highlight={
                name: fragments[0]
                for name, fragments in (hit.get("highlight") or {}).items()
                if name in HIGHLIGHT_FIELDS and fragments
            },
        )
        for hit in response["hits"].get("hits", ())  # filter_path drops an empty list
    ]
    return SearchResult(count=int(response["hits"]["total"]["value"]), hits=hits)


def highlight_text(value: str | None, needle: str) -> str | None:
    """`value` HTML-escaped with every case-insensitive `needle` wrapped in `<em class="hl">`.

    None when `value` is empty or does not contain `needle` (the database backend's highlighter).
    """
    if not value or not needle:
        return None
    parts: list[str] = []
    last = 0
    for match in re.finditer(re.escape(needle), value, flags=re.IGNORECASE):
        parts.append(html.escape(value[last : match.start()]))
        parts.append(f"{PRE_TAG}{html.escape(match.group(0))}{POST_TAG}")
        last = match.end()
    if not parts:
        return None
    parts.append(html.escape(value[last:]))
    return "".join(parts)


def _db_search(
    user: Any, text: str, type: int | None, label: int | None, offset: int, limit: int
) -> SearchResult:
    topics = topic_list_visible_to(user=user).select_related(None).prefetch_related(None)
    if type is not None:
        topics = topics.filter(type=type)
    if label is not None:
        topics = topics.filter(label_id=label)
    if text:
        matches = Q(subject__icontains=text) | Q(description__icontains=text)
        if sees_answers(user):
            option_match = TopicOption.objects.filter(topic=OuterRef("pk"), text__icontains=text)
            matches |= Q(answer__icontains=text) | Q(Exists(option_match))
        topics = topics.filter(matches)
    count = topics.count()
    rows = topics.order_by("-update_time", "-id").values_list("id", "subject", "description")
    hits = []
    for pk, subject, description in rows[offset : offset + limit]:
        marks = {
            "subject": highlight_text(subject, text),
            "description": highlight_text(description, text),
        }
        hits.append(Hit(id=pk, highlight={k: v for k, v in marks.items() if v}))
    return SearchResult(count=count, hits=hits)


# --- index sync ------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """`indexed` documents written, `deleted` removed, `conflicts` skipped (a newer version is in
    the index), `not_found` deletes of documents that were not there."""

    indexed: int = 0
    deleted: int = 0
    conflicts: int = 0
    not_found: int = 0


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _sync_actions(ids: list[int], index: str, counts: dict[str, int]) -> Iterator[dict[str, Any]]:
    for chunk in _chunks(ids, SYNC_CHUNK):
        rows = {t.pk: t for t in _indexable().filter(pk__in=chunk)}
        for pk in chunk:
            topic = rows.get(pk)
            if topic is not None and not topic.is_delete:
                counts["index"] += 1
                yield _index_action(topic, index)
            else:
                counts["delete"] += 1
                yield _delete_action(pk, index, topic)


def _raise_if_retryable(result: es.BulkResult) -> None:
    retry = [i for i in result.errors if next(iter(i.values())).get("status", 0) in (429, 503)]
    if retry:
        raise SearchUnavailable(reason=f"{len(retry)} bulk items rejected")


def sync_topics(
    *,
    topic_ids: Iterable[int],
    refresh: bool | str = False,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Mirror topics `topic_ids` into the `topic` alias: upsert live rows, delete deleted/missing ones.

    Idempotent (external versions); no-op with the database backend. Creates the alias when
    missing. Returns once the writes are searchable (`refresh`: "wait_for" waits for the next
    refresh; false refreshes the alias now), then drops the cached search bodies
    (`search_index_changed`). Raises `SearchUnavailable` when Elasticsearch is unreachable or rejects items for load.
    """
    ids = sorted({int(i) for i in topic_ids})
    if not ids or not use_elasticsearch():
        return SyncResult()
    with es.unavailable_as_503():
        client = es.get_client()
        alias = ensure_topic_alias(client)
        counts = {"index": 0, "delete": 0}
        result = es.bulk(
            client, _sync_actions(ids, alias, counts), refresh=refresh, progress=progress
        )
        if not refresh:  # searchable before the cached search bodies are dropped
            client.indices.refresh(index=alias)
    search_index_changed()
    _raise_if_retryable(result)
    deleted = counts["delete"] - result.not_found
    return SyncResult(
        indexed=result.ok - max(deleted, 0),
        deleted=max(deleted, 0),
        conflicts=result.conflicts,
        not_found=result.not_found,
    )


def search_index_changed() -> None:
    """Drop every cached search body (bump `work:search`): call once index changes are searchable.

    Search responses are cached with this version and the `work:topic`/`work:label` ones (bumped
    at commit by every write). Documents are written after commit by Celery tasks and become
    searchable at the next refresh, so `sync_topics` waits for (or makes) that refresh and then
    calls this: a body cached from the index before a change is never served after it.
    """
    response_cache.bump(SEARCH_CACHE_NAMESPACE)


def sync_label(*, label_id: int, refresh: bool | str = False) -> SyncResult:
    """Re-mirror every topic of label `label_id` (its `label_name` / `label_is_exam` changed).

    Deleted topics of the label are (re)deleted, which is harmless. No-op with the database backend.
    """
    if not use_elasticsearch():
        return SyncResult()
    ids = list(Topic.objects.filter(label_id=label_id).values_list("pk", flat=True))
    return sync_topics(topic_ids=ids, refresh=refresh)


@dataclass
class RebuildResult:
    """`index`: the new concrete index; `count` documents loaded; `old` indices dropped;
    `caught_up` rows re-synced after the swap; `seconds` wall time of the load (bulk only)."""

    index: str
    count: int
    old: list[str]
    caught_up: int
    seconds: float


def rebuild(
    *,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = es.BULK_CHUNK,
) -> RebuildResult:
    """Zero-downtime rebuild: load every live topic into a new versioned index, swap the alias
    atomically, delete the old index, then re-sync rows written meanwhile (they went to the old one).

    `on_total(n)` is called with the number of rows to load, `progress(k)` as documents are sent.
    Raises `SearchUnavailable` (ES unreachable) or `RuntimeError` (items rejected; new index dropped).
    """
    if not use_elasticsearch():
        raise SearchUnavailable(reason="the database search backend has no index")
    started = timezone.now()
    with es.unavailable_as_503():
        client = es.get_client()
        new = es.versioned_name(TOPIC)
        body = topic_index_body(client)
        body["settings"].update(refresh_interval="-1", number_of_replicas=0)
        es.create_index(client, new, body)
        try:
            live = Topic.objects.filter(is_delete=False)
            if on_total is not None:
                on_total(live.count())
            rows = (
                _indexable().filter(is_delete=False).order_by("pk").iterator(chunk_size=chunk_size)
            )
            began = time.perf_counter()
            result = es.bulk(
                client,
                (_index_action(t, new) for t in rows),
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
        old = es.swap_alias(client, TOPIC, new)
    changed = list(
        Topic.objects.filter(update_time__gte=started - REBUILD_MARGIN).values_list("pk", flat=True)
    )
    sync_topics(topic_ids=changed, refresh="wait_for")
    search_index_changed()
    logger.info("topic index rebuilt: %s (%d docs, old %s)", new, result.ok, old)
    return RebuildResult(
        index=new, count=result.ok, old=old, caught_up=len(changed), seconds=seconds
    )


@dataclass
class ReconcileResult:
    """Counts found before fixing: `missing`, `stale`, `extra` (see `utils.search.ReconcilePlan`);
    `db` live rows and `indexed` documents compared; `fixed` whether repairs were sent;
    `conflicts` repairs refused because the index holds a higher version (e.g. a delete tombstone
    younger than `index.gc_deletes`, 60 s): the next reconcile retries them."""

    missing: int
    stale: int
    extra: int
    db: int
    indexed: int
    fixed: bool
    conflicts: int = 0


def reconcile(
    *,
    fix: bool = True,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    refresh: bool | str = False,
) -> ReconcileResult:
    """Compare live DB rows with index documents by id and version (`update_time`) and, when
    `fix`, re-sync missing/stale ids and delete extra documents.

    `on_total(n)` gets the number of repairs, `progress(k)` counts them. Creates the alias if
    missing (then everything is "missing"). Raises `SearchUnavailable` when ES is unreachable.
    """
    if not use_elasticsearch():
        raise SearchUnavailable(reason="the database search backend has no index")
    with es.unavailable_as_503():
        client = es.get_client()
        alias = ensure_topic_alias(client)
        client.indices.refresh(index=alias)  # recent writes count as indexed, not missing
        db = {
            pk: es.to_version(updated)
            for pk, updated in Topic.objects.filter(is_delete=False)
            .values_list("pk", "update_time")
            .iterator(chunk_size=5000)
        }
        indexed = es.index_versions(client, TOPIC)
        plan = es.reconcile_plan(db, indexed)
        repairs = plan.missing + plan.stale + plan.extra
        if on_total is not None:
            on_total(len(repairs))
        synced = SyncResult()
        if fix and repairs:
            synced = sync_topics(topic_ids=repairs, refresh=refresh, progress=progress)
    return ReconcileResult(
        missing=len(plan.missing),
        stale=len(plan.stale),
        extra=len(plan.extra),
        db=len(db),
        indexed=len(indexed),
        fixed=fix and bool(repairs),
        conflicts=synced.conflicts,
    )
