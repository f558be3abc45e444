"""Reads of the question bank with THE visibility policy (API.md §2.3, §2.4).

Every read path — list, detail, search hydration, export, cache key bucket — goes through these
functions, so "students never see exam topics" is decided in one place (`apps.work.visibility`).
"""

from collections.abc import Iterable
from typing import Any

from django.db import connections
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from apps.work.models import Label, Topic, TopicOption
from apps.work.visibility import sees_answers, sees_exam

_OPTIONS = Prefetch("options", queryset=TopicOption.objects.order_by("key"))


def topic_list_visible_to(*, user: Any, prefetch: bool = True) -> QuerySet[Topic]:
    """Live topics the caller may read, newest `update_time` first. Source: DB.

    Teachers/staff: every non-deleted topic. Everyone else (students, plain users, anon): minus
    topics whose label has `is_exam=True`. Labels and options are prefetched (one query each)
    unless `prefetch` is false (for `topic_rows`); `user` is rendered as an id only.
    """
    topics = Topic.objects.filter(is_delete=False)
    if prefetch:
        topics = topics.prefetch_related("label", _OPTIONS)
    if sees_exam(user):
        return topics
    # One table plus `NOT IN (exam label ids)`, no join: MariaDB then reads `topic` through
    # (is_delete, update_time) backwards and stops after a page. With a join on `label` (filter or
    # select_related) it drives from the small `label` table and sorts every matching topic
    # ("Using temporary; Using filesort"; see apps/work/tests/test_mariadb_explain.py).
    return topics.exclude(label_id__in=Label.objects.filter(is_exam=True).values("pk"))


def topic_get_visible(*, user: Any, pk: Any) -> Topic:
    """The live topic `pk` if the caller may read it. Raises `Topic.DoesNotExist` otherwise (→ 404)."""
    return topic_list_visible_to(user=user).get(pk=pk)


def topic_list_by_ids(*, user: Any, ids: Iterable[int]) -> list[Topic]:
    """Visible topics among `ids` in the given order, in one query (+ one for options).

    Missing, deleted and (for non-teachers) exam topics are dropped. Used to hydrate search hits:
    one query for the topics with their labels, one for the options.
    """
    ids = list(ids)
    if not ids:
        return []
    topics = (
        topic_list_visible_to(user=user)
        .filter(pk__in=ids)
        .select_related("label")  # a pk lookup: the join costs nothing here
        .prefetch_related(None)
        .prefetch_related(_OPTIONS)
    )
    by_id = {t.pk: t for t in topics}
    return [by_id[i] for i in ids if i in by_id]


# --- rows for rendering lists (values, no model instances) -----------------------------------------

STUDENT_ROW_FIELDS = (
    "id",
    "subject",
    "type",
    "score",
    "description",
    "label_id",
    "user_id",
    "create_time",
    "update_time",
)
TEACHER_ROW_FIELDS = (*STUDENT_ROW_FIELDS, "answer")


def topic_rows(topics: QuerySet[Topic], *, answers: bool) -> QuerySet:
    """`topics` as dict rows of the output fields (no prefetches); `answer` only if `answers`.

    Row: `{"id", "subject", "type", "score", "description", "label_id", "user_id", "create_time",
    "update_time"[, "answer"], "label_name"}`. Complete them with `topic_rows_complete`. The caller keeps the
    visibility (pass a `topic_list_visible_to` queryset).
    """
    # the label name as a dependent subquery (one PK lookup per row of the page), not a join:
    # a join lets MariaDB drive from `label` and sort every topic (see selectors' note above)
    label_name = Label.objects.filter(pk=OuterRef("label_id")).order_by().values("name")[:1]
    return (
        topics.prefetch_related(None)
        .values(*(TEACHER_ROW_FIELDS if answers else STUDENT_ROW_FIELDS))
        .annotate(label_name=Subquery(label_name))
    )


def topic_rows_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `label_name` and `options` (`[{"key", "text", "is_correct"}]` by key) to `rows`.

    Two queries (labels unless every row has `label_name` already, options of all rows), none when
    `rows` is empty. Mutates and returns `rows`.
    """
    if not rows:
        return rows
    if all("label_name" in r for r in rows):
        names = {r["label_id"]: r["label_name"] for r in rows}
    else:
        names = dict(
            Label.objects.filter(pk__in={r["label_id"] for r in rows}).values_list("id", "name")
        )
    options: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    for topic_id, key, text, is_correct in (
        TopicOption.objects.filter(topic_id__in=list(options))
        .order_by("topic_id", "key")
        .values_list("topic_id", "key", "text", "is_correct")
    ):
        options[topic_id].append({"key": key, "text": text, "is_correct": is_correct})
    for row in rows:
        row["label_name"] = names[row["label_id"]]
        row["options"] = options[row["id"]]
    return rows


def label_list_visible_to(*, user: Any) -> QuerySet[Label]:
    """Labels the caller may read (students: no exam labels), newest first. Source: DB."""
    labels = Label.objects.all()
    return labels if sees_exam(user) else labels.filter(is_exam=False)


def label_get_visible(*, user: Any, pk: Any) -> Label:
    """The label `pk` if the caller may read it. Raises `Label.DoesNotExist` otherwise (→ 404)."""
    return label_list_visible_to(user=user).get(pk=pk)


# --- the unfiltered list page in raw SQL (issue 7: ORM query building was most of an uncached page) --

_COMPILED: dict[tuple, tuple[str, tuple, list[str], list]] = {}
_ID_SENTINEL = -(10**15)  # placeholder ids compiled into the by-ids SQL, swapped for real ones


def _compiled(rows: QuerySet, *, using: str) -> tuple[str, tuple, list[str], list]:
    """`(sql, params, columns, converters)` of the values queryset `rows` on `using`."""
    compiler = rows.query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    columns = [*rows.query.values_select, *rows.query.annotation_select]
    expressions = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = list(compiler.get_converters(expressions).items())
    return sql, tuple(params), columns, converters


def _page_statement(*, user: Any, using: str) -> tuple[str, tuple, list[str], list]:
    """`(sql, params, columns, converters)` of `topic_rows(topic_list_visible_to(user))` (ORDER BY
    included) with `LIMIT %s OFFSET %s` appended, compiled once per (database alias, view) and
    reused: the SQL depends only on the alias's backend, so every thread shares it.

    The SQL is Django's own compilation of the selector queryset, so the visibility policy stays
    the one above; only the per-request building and compiling is skipped.
    """
    answers = sees_answers(user)
    key = ("page", using, connections[using].vendor, sees_exam(user), answers)
    statement = _COMPILED.get(key)
    if statement is None:
        rows = topic_rows(topic_list_visible_to(user=user, prefetch=False), answers=answers)
        sql, params, columns, converters = _compiled(rows, using=using)
        statement = (f"{sql} LIMIT %s OFFSET %s", params, columns, converters)
        _COMPILED[key] = statement
    return statement


def _by_ids_statement(*, user: Any, n: int, using: str) -> tuple[str, tuple, list[str], list]:
    """As `_page_statement` for `topic_rows(visible.filter(pk__in=<n ids>))`, unordered; the
    params hold `_ID_SENTINEL - i` where the i-th id goes (see `_fetch_rows`)."""
    answers = sees_answers(user)
    key = ("ids", using, connections[using].vendor, sees_exam(user), answers, n)
    statement = _COMPILED.get(key)
    if statement is None:
        sentinels = [_ID_SENTINEL - i for i in range(n)]
        topics = topic_list_visible_to(user=user, prefetch=False).filter(pk__in=sentinels)
        statement = _compiled(topic_rows(topics.order_by(), answers=answers), using=using)
        _COMPILED[key] = statement
    return statement


def _fetch_rows(statement: tuple, params: Iterable[Any], *, using: str) -> list[dict[str, Any]]:
    """Run a compiled `statement` with `params`; dict rows with Django's converters applied."""
    sql, _params, columns, converters = statement
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params))
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        values = list(values)
        for pos, (convs, expression) in converters:  # as SQLCompiler.apply_converters
            for converter in convs:
                values[pos] = converter(values[pos], expression, connection)
        rows.append(dict(zip(columns, values, strict=True)))
    return rows


def topic_rows_by_ids(
    *, user: Any, ids: Iterable[int], using: str = "default"
) -> list[dict[str, Any]]:
    """Completed rows (see `topic_rows_complete`) of the visible topics among `ids`, in that order.

    Missing, deleted and (for non-teachers) exam topics are dropped; `answer` only for teachers and
    staff. Two raw queries (topics with their label names, then the options), the topic SQL
    compiled once per (connection, view, number of ids). Used to hydrate search hits.
    """
    ids = list(ids)
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    statement = _by_ids_statement(user=user, n=len(unique), using=using)
    slots = {_ID_SENTINEL - i: pk for i, pk in enumerate(unique)}
    params = [slots.get(p, p) if type(p) is int else p for p in statement[1]]
    by_id = {r["id"]: r for r in _fetch_rows(statement, params, using=using)}
    _options_raw(list(by_id.values()), answers=sees_answers(user), using=using)
    return [by_id[i] for i in ids if i in by_id]


def topic_page_rows(*, user: Any, offset: int, limit: int, using: str = "default") -> list[dict]:
    """Rows `offset:offset+limit` of the caller's unfiltered list, completed (`topic_rows_complete`
    shape: `label_name`, `options`; `answer` only for teachers/staff). Two raw queries (page, options)
    on `connection.cursor()` with the page SQL compiled once (`_page_statement`).
    """
    if limit <= 0:
        return []
    statement = _page_statement(user=user, using=using)
    rows = _fetch_rows(statement, (*statement[1], limit, offset), using=using)
    return _options_raw(rows, answers=sees_answers(user), using=using)


def _options_raw(rows: list[dict], *, answers: bool, using: str) -> list[dict]:
    """Set `row["options"]` (`[{"key", "text"[, "is_correct"]}]` by key) in one raw query."""
    if not rows:
        return rows
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = TopicOption._meta
    topic_col = quote(meta.get_field("topic").column)
    key_col = quote(meta.get_field("key").column)
    text_col = quote(meta.get_field("text").column)
    correct_col = quote(meta.get_field("is_correct").column)
    marks = ", ".join(["%s"] * len(rows))
    sql = (
        f"SELECT {topic_col}, {key_col}, {text_col}, {correct_col} FROM {quote(meta.db_table)} "
        f"WHERE {topic_col} IN ({marks}) ORDER BY {topic_col}, {key_col}"
    )
    options: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    with connection.cursor() as cursor:
        cursor.execute(sql, list(options))
        for topic_id, key, text, is_correct in cursor.fetchall():
            option = {"key": key, "text": text}
            if answers:
                option["is_correct"] = bool(is_correct)
            options[topic_id].append(option)
    for row in rows:
        row["options"] = options[row["id"]]
    return rows


class TopicPageSource:
    """The caller's unfiltered topic list for a `Paginator`: slicing runs `topic_page_rows`,
    `count()` the selector queryset's `COUNT(*)` (when the paginator's cache misses)."""

    ordered = True

    def __init__(self, *, user: Any, using: str = "default") -> None:
        self.user, self.db = user, using

    def count(self) -> int:
        return topic_list_visible_to(user=self.user, prefetch=False).using(self.db).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict]:
        start, stop = item.start or 0, item.stop
        return topic_page_rows(user=self.user, offset=start, limit=stop - start, using=self.db)
