"""Article search (API.md §2.5 `GET /api/community/articles/search/`) and the Elasticsearch
`article` index (API.md §3 "Index `article` likewise").

Same contract as topic search: `text` (≤100 chars after trim, empty → all live articles newest
first), `offset` ≥ 0, `limit` 1–50, `offset + limit` ≤ 10 000; results carry `title_highlight`
and `content_highlight` — HTML-escaped text whose only markup is `<em class="hl">…</em>`,
null when `text` is empty or the field did not match.

Backends (`utils.search.use_elasticsearch()`):

* Elasticsearch (ELASTICSEARCH_URL set): alias `<ELASTICSEARCH_INDEX_PREFIX>article` over a
  versioned index (rebuild = new index + atomic alias swap). One document per live article,
  `_id` = article id: `title`, `content` (the Markdown source, as the API's `content`), `user`,
  `user_name`, `create_time`, `update_time`; versions are `update_time` in µs. Ids, order, count
  and highlights come from Elasticsearch; results are rendered from the live rows (a hit whose
  row is deleted or gone is dropped). Unreachable → `SearchUnavailable` (503); missing index →
  count 0.
* Database (embedded default): `icontains` on title and content for any whitespace-separated
  term, newest first, highlights made by escaping and wrapping the matches.

The database is the source of truth: writes enqueue `tasks.article_index_task` on commit
(`article_sync_to_index`), `rebuild` / `reconcile` (`manage.py search_index --index article`,
hourly beat) repair everything else. The sync / rebuild / reconcile machinery is generic
(`utils.search.ModelIndex`); this module only says what an article document is and how to query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from elasticsearch import Elasticsearch

from apps.community.models import Article
from utils import search as es

ARTICLE = "article"  # alias name without prefix
FRAGMENT = 100  # characters of the content snippet (ES fragment_size; the DB backend's window)
FIELDS = ("title^3", "content")
HIGHLIGHT = {
    "title": {"number_of_fragments": 0},  # the whole title
    # One snippet of about FRAGMENT characters. The `plain` highlighter keeps to fragment_size;
    # the default (`unified`, sentence boundaries) returns a whole "sentence", which for a long
    # run of Han characters without punctuation can be the whole 50 000-character body.
    "content": {"type": "plain", "fragment_size": FRAGMENT, "number_of_fragments": 1},
}


@dataclass
class ArticleHit:
    """One search result: the live row and its highlights (or None)."""

    article: Article
    title_highlight: str | None
    content_highlight: str | None


# --- the index -------------------------------------------------------------------------------------


def article_index_body(client: Elasticsearch) -> dict[str, Any]:
    """Settings and explicit (`dynamic: strict`) mapping of an `article` index. `title` and
    `content` use IK when the server has it, else smartcn, `cjk` or `standard` (one token per Han
    character), recorded in `_meta`."""
    return es.index_body(
        client,
        text_fields=("title", "content"),
        fields={
            "id": {"type": "long"},
            "user": {"type": "long"},
            "user_name": {"type": "keyword"},
            "create_time": {"type": "date"},
            "update_time": {"type": "date"},
        },
    )


def article_document(article: Article) -> dict[str, Any]:
    """The index document of `article` (its `user` joined)."""
    return {
        "id": article.pk,
        "title": article.title,
        "content": article.content,
        "user": article.user_id,
        "user_name": article.user.username,
        "create_time": article.create_time.isoformat(),
        "update_time": article.update_time.isoformat(),
    }


ARTICLE_INDEX = es.ModelIndex(
    name=ARTICLE,
    body=article_index_body,
    queryset=lambda: Article.objects.select_related("user"),
    document=article_document,
)


def article_sync_to_index(*, article_id: int, refresh: bool | str = False) -> es.SyncResult:
    """Mirror article `article_id` into the `article` alias: upsert if live, delete if deleted or
    gone. Idempotent; no-op with the database backend. Raises `SearchUnavailable` (retried by
    `tasks.article_index_task`)."""
    return es.sync_ids(ARTICLE_INDEX, [article_id], refresh=refresh)


def sync_articles(
    *,
    article_ids: list[int],
    refresh: bool | str = False,
    progress: Callable[[int], None] | None = None,
) -> es.SyncResult:
    """Mirror many articles in bulk requests (see `article_sync_to_index`)."""
    return es.sync_ids(ARTICLE_INDEX, article_ids, refresh=refresh, progress=progress)


def rebuild(
    *, on_total: Callable[[int], None] | None = None, progress: Callable[[int], None] | None = None
) -> es.RebuildResult:
    """Zero-downtime rebuild of the `article` index (`utils.search.rebuild_index`)."""
    return es.rebuild_index(ARTICLE_INDEX, on_total=on_total, progress=progress)


def reconcile(
    *,
    fix: bool = True,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    refresh: bool | str = False,
) -> es.ReconcileResult:
    """Repair drift between live articles and the index (`utils.search.reconcile_index`)."""
    return es.reconcile_index(
        ARTICLE_INDEX, fix=fix, on_total=on_total, progress=progress, refresh=refresh
    )


use_elasticsearch = es.use_elasticsearch


# --- search ----------------------------------------------------------------------------------------


def build_query(*, text: str, offset: int, limit: int) -> dict[str, Any]:
    """The Elasticsearch request body of `article_search` (exposed for tests)."""
    body: dict[str, Any] = {
        "from": offset,
        "size": limit,
        "track_total_hits": True,
        "_source": False,
    }
    if not text:
        body["query"] = {"match_all": {}}
        body["sort"] = [{"create_time": "desc"}, {"id": "desc"}]
        return body
    body["query"] = es.text_query(text, FIELDS)
    body["rescore"] = es.phrase_rescore(text, FIELDS)  # by score: ES allows no `sort` with it
    body["highlight"] = es.highlight_request(HIGHLIGHT)
    return body


def article_search(*, text: str, offset: int, limit: int) -> tuple[int, list[ArticleHit]]:
    """`(count, hits)` of live articles matching `text` (already trimmed), in relevance order
    (ES) or newest first (DB). Source: Elasticsearch + DB rows, or the DB alone.

    Raises `SearchUnavailable` when Elasticsearch is configured but unreachable.
    """
    if es.use_elasticsearch():
        return _es_search(text, offset, limit)
    return _db_search(text, offset, limit)


def _es_search(text: str, offset: int, limit: int) -> tuple[int, list[ArticleHit]]:
    count, found = es.search_ids(ARTICLE, build_query(text=text, offset=offset, limit=limit))
    rows = Article.objects.filter(pk__in=[hit.id for hit in found], is_delete=False).select_related(
        "user"
    )
    by_id = {row.pk: row for row in rows}
    hits = [
        ArticleHit(
            article=by_id[hit.id],
            title_highlight=hit.highlight.get("title"),
            content_highlight=hit.highlight.get("content"),
        )
        for hit in found
        if hit.id in by_id
    ]
    return count, hits


def _db_search(text: str, offset: int, limit: int) -> tuple[int, list[ArticleHit]]:
    terms = es.query_terms(text)
    qs = Article.objects.filter(is_delete=False).select_related("user")
    if terms:
        qs = qs.filter(
            reduce(or_, (Q(title__icontains=t) | Q(content__icontains=t) for t in terms))
        )
    qs = qs.order_by("-create_time", "-id")
    count = qs.count()
    rows = list(qs[offset : offset + limit]) if offset < count else []
    hits = [
        ArticleHit(
            article=row,
            title_highlight=es.highlight_terms(row.title, terms),
            content_highlight=es.highlight_terms(row.content, terms, fragment=FRAGMENT),
        )
        for row in rows
    ]
    return count, hits
