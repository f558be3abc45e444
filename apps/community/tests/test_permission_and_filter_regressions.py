"""Regressions: comment detail readable by any authenticated user (API.md §2.5), and
out-of-range integer filters answered 400 instead of a 500 (SQLite OverflowError)."""

import pytest

from apps.community.models import Comment
from apps.community.tests.factories import ArticleFactory, CommentFactory

COMMENTS = "/api/community/comments/"
ARTICLES = "/api/community/articles/"
HUGE = 2**70  # past any primary key: SQLite cannot bind it (OverflowError → 500 before)


@pytest.mark.django_db
def test_comment_detail_is_readable_by_another_user(client_for, user):
    comment = CommentFactory()
    reply = CommentFactory(parent_comment=comment)

    response = client_for(user).get(f"{COMMENTS}{comment.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == comment.pk
    assert [son["id"] for son in body["sonComments"]] == [reply.pk]


@pytest.mark.django_db
def test_comment_delete_by_another_user_is_still_403(client_for, user):
    comment = CommentFactory()

    response = client_for(user).delete(f"{COMMENTS}{comment.pk}/")

    assert response.status_code == 403, response.content
    assert Comment.objects.filter(pk=comment.pk, is_delete=False).exists()


@pytest.mark.django_db
def test_comment_delete_by_its_author_still_works(client_for):
    comment = CommentFactory()

    response = client_for(comment.user).delete(f"{COMMENTS}{comment.pk}/")

    assert response.status_code == 204
    assert Comment.objects.get(pk=comment.pk).is_delete


@pytest.mark.django_db
@pytest.mark.parametrize("value", [HUGE, 2**63])
def test_article_list_huge_user_filter_is_400(client_for, user, value):
    ArticleFactory(user=user)

    response = client_for(user).get(ARTICLES, {"user": value})

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["user"]
    assert len(response.json()["user"]) == 1


@pytest.mark.django_db
def test_article_list_largest_id_filter_is_an_empty_page(client_for, user):
    ArticleFactory(user=user)

    response = client_for(user).get(ARTICLES, {"user": 2**63 - 1})

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


@pytest.mark.django_db
def test_comment_list_huge_article_filter_is_400(client_for, user):
    response = client_for(user).get(COMMENTS, {"article": HUGE})

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["article"]
