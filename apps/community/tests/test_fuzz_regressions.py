"""Regressions found by the schema fuzzer (tests/test_schemathesis.py) in the community app."""

import pytest

from apps.community.tests.factories import CommentFactory


@pytest.mark.django_db
@pytest.mark.parametrize("segment", ["abc", "NaN", "true", "1.5"])
def test_non_integer_comment_id_is_404(client_for, staff, segment):
    """`/comments/<not an int>/` raised ValueError in get_object (500); now 404 like any miss."""
    CommentFactory()
    client = client_for(staff)
    assert client.get(f"/api/community/comments/{segment}/").status_code == 404
    assert client.delete(f"/api/community/comments/{segment}/").status_code == 404
