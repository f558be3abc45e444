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
`reconcile` repairs drift (missing / stale / extra documents). That machinery, the query and
highlight builders and the hit reader are the generic ones of `utils.search` (`TOPIC_INDEX`);
this module says what a topic document is, who may match what, and bumps the `work:search`
response-cache version once index writes are searchable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q
from elasticsearch import Elasticsearch

from apps.work.models import Topic, TopicOption
from apps.work.selectors import topic_list_visible_to
from apps.work.visibility import sees_answers, sees_exam
from utils import cache as response_cache
from utils import search as es

TOPIC = "topic"  # alias name without prefix
HIGHLIGHT_FIELDS = ("subject", "description")
STUDENT_FIELDS = ("subject^3", "description")
TEACHER_FIELDS = (*STUDENT_FIELDS, "answer", "options")
SEARCH_CACHE_NAMESPACE = "work:search"  # response-cache version of search bodies (see views)

Hit = es.SearchHit  # one hit: topic `id`, highlights `{"subject"|"description": escaped html}`
SyncResult = es.SyncResult
RebuildResult = es.RebuildResult
ReconcileResult = es.ReconcileResult
use_elasticsearch = es.use_elasticsearch


@dataclass
class SearchResult:
    """`count`: total matches visible to the caller; `hits`: the requested window, in order."""

    count: int
    hits: list[Hit]


# --- the index -------------------------------------------------------------------------------------


def topic_index_body(client: Elasticsearch) -> dict[str, Any]:
    """Settings and explicit mapping of a `topic` index (API.md §3); analyzer picked from the server.

    Text fields (`subject`, `description`, `answer`, `options`) use IK (`ik_max_word`/`ik_smart`)
    when installed, else smartcn, `cjk`, or `standard` (one token per Han character). The choice is
    recorded in the mapping's `_meta`.
    """
    return es.index_body(
        client,
        text_fields=("subject", "description", "answer", "options"),
        fields={
            "id": {"type": "long"},
            "type": {"type": "byte"},
            "score": {"type": "float"},
            "label": {"type": "long"},
            "label_name": {"type": "keyword"},
            "label_is_exam": {"type": "boolean"},
            "user": {"type": "long"},
            "create_time": {"type": "date"},
            "update_time": {"type": "date"},
        },
    )


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


def search_index_changed() -> None:
    """Drop every cached search body (bump `work:search`): call once index changes are searchable.

    Search responses are cached with this version and the `work:topic`/`work:label` ones (bumped
    at commit by every write). Documents are written after commit by Celery tasks and become
    searchable at the next refresh, so `sync_topics` waits for (or makes) that refresh and then
    calls this (`TOPIC_INDEX.on_searchable`): a body cached from the index before a change is never
    served after it.
    """
    response_cache.bump(SEARCH_CACHE_NAMESPACE)


TOPIC_INDEX = es.ModelIndex(
    name=TOPIC,
    body=topic_index_body,
    queryset=lambda: Topic.objects.select_related("label").prefetch_related("options"),
    document=topic_document,
    on_searchable=lambda: search_index_changed(),  # looked up at call time
)
_index_action = TOPIC_INDEX.index_action  # bulk upsert of a topic (external version), for tests


def ensure_topic_alias(client: Elasticsearch) -> str:
    """The `topic` alias, created (empty index `<prefix>topic_v0`) when missing."""
    return TOPIC_INDEX.ensure(client)


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
    fields = TEACHER_FIELDS if sees_answers(user) else STUDENT_FIELDS
    body["query"] = es.text_query(text, fields)
    body["query"]["bool"]["filter"] = filters
    body["rescore"] = es.phrase_rescore(text, fields)  # by score: ES allows no `sort` with it
    body["highlight"] = es.highlight_request(
        {name: {"number_of_fragments": 0} for name in HIGHLIGHT_FIELDS}
    )
    return body


def _es_search(
    user: Any, text: str, type: int | None, label: int | None, offset: int, limit: int
) -> SearchResult:
    body = build_query(user=user, text=text, type=type, label=label, offset=offset, limit=limit)
    count, hits = es.search_ids(TOPIC, body)  # highlights: only the requested HIGHLIGHT_FIELDS
    return SearchResult(count=count, hits=hits)


def highlight_text(value: str | None, needle: str) -> str | None:
    """`value` HTML-escaped with every case-insensitive `needle` wrapped in `<em class="hl">`.

    None when `value` is empty or does not contain `needle` (the database backend's highlighter).
    Unlike the article search, the whole `needle` is one term (not split on whitespace), matching
    the `icontains` filter of `_db_search`.
    """
    if not needle:
        return None
    return es.highlight_terms(value, [needle])


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


# --- index sync, rebuild, reconcile (utils.search over TOPIC_INDEX) --------------------------------


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
    (`search_index_changed`). Raises `SearchUnavailable` when Elasticsearch is unreachable or
    rejects items for load.
    """
    return es.sync_ids(TOPIC_INDEX, topic_ids, refresh=refresh, progress=progress)


def sync_label(*, label_id: int, refresh: bool | str = False) -> SyncResult:
    """Re-mirror every topic of label `label_id` (its `label_name` / `label_is_exam` changed).

    Deleted topics of the label are (re)deleted, which is harmless. No-op with the database backend.
    """
    if not use_elasticsearch():
        return SyncResult()
    ids = list(Topic.objects.filter(label_id=label_id).values_list("pk", flat=True))
    return sync_topics(topic_ids=ids, refresh=refresh)


def rebuild(
    *,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = es.BULK_CHUNK,
) -> RebuildResult:
    """Zero-downtime rebuild: load every live topic into a new versioned index, swap the alias
    atomically, delete the old index, then re-sync rows written meanwhile (they went to the old one;
    `refresh="wait_for"`) and drop the cached search bodies (`utils.search.rebuild_index`).

    `on_total(n)` is called with the number of rows to load, `progress(k)` as documents are sent.
    Raises `SearchUnavailable` (ES unreachable) or `RuntimeError` (items rejected; new index dropped).
    """
    return es.rebuild_index(
        TOPIC_INDEX,
        on_total=on_total,
        progress=progress,
        chunk_size=chunk_size,
        refresh="wait_for",
    )


def reconcile(
    *,
    fix: bool = True,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    refresh: bool | str = False,
) -> ReconcileResult:
    """Compare live DB rows with index documents by id and version (`update_time`) and, when
    `fix`, re-sync missing/stale ids and delete extra documents (`utils.search.reconcile_index`;
    the repairs are searchable and the cached search bodies dropped when it returns).

    `on_total(n)` gets the number of repairs, `progress(k)` counts them. Creates the alias if
    missing (then everything is "missing"). Raises `SearchUnavailable` when ES is unreachable.
    """
    return es.reconcile_index(
        TOPIC_INDEX, fix=fix, on_total=on_total, progress=progress, refresh=refresh
    )
