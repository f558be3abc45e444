"""MariaDB plans of the student topic list: the (is_delete, update_time) index serves the order,
so a page never sorts the whole table (no `Using filesort` on a full scan), also for the rows the
list renders (label names as a dependent PK lookup); the count reads only the (is_delete, label)
index (`Using index`, never a full table scan)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.work import selectors
from apps.work.models import Label, Topic, TopicType


@pytest.mark.django_db(transaction=True)
def test_student_list_first_page_uses_the_index_without_filesort(mariadb, teacher, student):
    labels = [
        Label.objects.create(name=f"L{n}", is_exam=n % 5 == 0, user=teacher) for n in range(20)
    ]
    now = timezone.now()
    Topic.objects.bulk_create(
        Topic(
            subject=f"s{n}",
            type=TopicType.ESSAY,
            label=labels[n % 20],
            user=teacher,
            is_delete=n % 10 == 0,
        )
        for n in range(3000)
    )
    Topic.objects.update(update_time=now)  # realistic ties are fine: id breaks them
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE topic, label")
        cursor.fetchall()
    visible = selectors.topic_list_visible_to(user=student)
    expected = list(
        Topic.objects.filter(is_delete=False, label__is_exam=False)
        .order_by("-update_time", "-id")
        .values_list("pk", flat=True)[:10]
    )
    for queryset in (
        visible.prefetch_related(None)[:10],
        selectors.topic_rows(visible, answers=False)[:10],  # what the list endpoint reads
    ):
        plan = explain(queryset.query)
        topic_rows = [row for row in plan if row["table"] == "topic"]
        assert topic_rows, plan
        for row in plan:
            extra = row["Extra"] or ""
            assert not ("Using filesort" in extra and row["type"] == "ALL"), plan
            assert "Using temporary" not in extra, plan
        assert topic_rows[0]["key"] == "topic_live_updated_idx", plan
        assert "Using filesort" not in (topic_rows[0]["Extra"] or ""), plan
        assert [r["id"] if isinstance(r, dict) else r.pk for r in queryset] == expected


def explain(query) -> list[dict]:
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        columns = [c[0] for c in cursor.description]
        plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    print(plan)  # noqa: T201 -- shown with -s: the plan for the report
    return plan


@pytest.mark.django_db(transaction=True)
def test_student_list_count_reads_an_index_only(mariadb, teacher, student):
    labels = [
        Label.objects.create(name=f"L{n}", is_exam=n % 5 == 0, user=teacher) for n in range(20)
    ]
    Topic.objects.bulk_create(
        Topic(
            subject=f"s{n}",
            type=TopicType.ESSAY,
            label=labels[n % 20],
            user=teacher,
            is_delete=n % 10 == 0,
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE topic, label")
        cursor.fetchall()
    rows = selectors.topic_rows(selectors.topic_list_visible_to(user=student), answers=False)
    with CaptureQueriesContext(connection) as ctx:
        count = rows.count()  # the paginator's count of the list endpoint
    assert count == Topic.objects.filter(is_delete=False, label__is_exam=False).count()
    (sql,) = [q["sql"] for q in ctx.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        columns = [c[0] for c in cursor.description]
        plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    print(plan)  # noqa: T201
    (topic_row,) = [row for row in plan if row["table"] == "topic"]
    assert topic_row["type"] != "ALL", plan
    assert topic_row["key"] == "topic_live_label_idx", plan
    assert "Using index" in (topic_row["Extra"] or ""), plan
