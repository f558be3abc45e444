"""MariaDB plan of the student topic list: the (is_delete, update_time) index serves the order,
so the first page never sorts the whole table (no `Using filesort` on a full scan)."""

import pytest
from django.db import connection
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
    queryset = selectors.topic_list_visible_to(user=student).prefetch_related(None)[:10]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        columns = [c[0] for c in cursor.description]
        plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    print(plan)  # noqa: T201 -- shown with -s: the plan for the report
    topic_rows = [row for row in plan if row["table"] == "topic"]
    assert topic_rows, plan
    for row in plan:
        extra = row["Extra"] or ""
        assert not ("Using filesort" in extra and row["type"] == "ALL"), plan
        assert "Using temporary" not in extra, plan
    assert topic_rows[0]["key"] == "topic_live_updated_idx", plan
    assert "Using filesort" not in (topic_rows[0]["Extra"] or ""), plan
    assert [t.pk for t in queryset] == list(
        Topic.objects.filter(is_delete=False, label__is_exam=False)
        .order_by("-update_time", "-id")
        .values_list("pk", flat=True)[:10]
    )
