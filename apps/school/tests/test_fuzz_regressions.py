"""Regressions found by the schema fuzzer (tests/test_schemathesis.py) in the school app."""

import pytest

from apps.school.tests.factories import ClassesFactory

HUGE = 2**127  # past any primary key: SQLite raised OverflowError on `pk__in` (500)


@pytest.mark.django_db
def test_huge_member_id_is_invalid_pk_not_500(client_for, teacher, student):
    ClassesFactory(user=teacher, members=[student])  # `member` ids must be visible to the caller
    response = client_for(teacher).post(
        "/api/school/classes/",
        {"name": "Big ids", "member": [student.pk, HUGE, -HUGE]},
        format="json",
    )
    assert response.status_code == 400, response.content
    errors = response.json()["member"]
    assert len(errors) == 2
    assert all("Invalid pk" in e or "无效" in e for e in errors), errors
