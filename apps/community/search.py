"""Article search (API.md §2.5 `GET /api/community/articles/search/`), database backend.

Same contract as topic search: `text` (≤100 chars after trim, empty → all live articles newest
first), `offset` ≥ 0, `limit` 1–50, `offset + limit` ≤ 10 000; results carry `title_highlight`
and `content_highlight` — HTML-escaped text whose only markup is `<em class="hl">…</em>`,
null when `text` is empty or the field did not match.

Backend: the database (`icontains` on title and content, any whitespace-separated term,
newest first). The Elasticsearch `article` index (generic helpers in `utils/search.py`, another
issue) is not wired here yet: `article_sync_to_index` is a no-op until it is, and search always
answers from the database even when ELASTICSEARCH_URL is set. TODO(issue 5 follow-up): mirror
`title`/`content` into alias `article` and query it when SEARCH_BACKEND == "elasticsearch".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q

from apps.community.models import Article

MAX_WINDOW = 10_000
FRAGMENT = 100  # characters of content around the first match (ES default fragment_size)
HL_OPEN, HL_CLOSE = '<em class="hl">', "</em>"


@dataclass
class ArticleHit:
    """One search result: the live row and its highlights (or None)."""

    article: Article
    title_highlight: str | None
    content_highlight: str | None


def terms_of(text: str) -> list[str]:
    """Distinct whitespace-separated terms of the query, in order."""
    seen: dict[str, None] = {}
    for term in text.split():
        seen.setdefault(term.lower(), None)
    return list(seen)


def highlight(value: str, terms: list[str], *, fragment: int | None = None) -> str | None:
    """Escape `value` and wrap every (case-insensitive) occurrence of a term in `<em class="hl">`.

    With `fragment`, only about that many characters around the first match are kept.
    Returns None when no term occurs.
    """
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
        out.append(HL_OPEN + html.escape(match.group(0)) + HL_CLOSE)
        pos = match.end()
    out.append(html.escape(value[pos:]))
    return "".join(out)


def article_search(*, text: str, offset: int, limit: int) -> tuple[int, list[ArticleHit]]:
    """`(count, hits)` of live articles matching `text` (database backend). Source: DB."""
    terms = terms_of(text)
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
            title_highlight=highlight(row.title, terms),
            content_highlight=highlight(row.content, terms, fragment=FRAGMENT),
        )
        for row in rows
    ]
    return count, hits


def article_sync_to_index(*, article_id: int) -> None:
    """Mirror one article into the Elasticsearch `article` index.

    Not wired yet: the generic ES helpers (`utils/search.py`) belong to another issue; with the
    database backend there is nothing to mirror, so this is a deliberate no-op.
    """
    return None
