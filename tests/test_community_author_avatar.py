"""Cached article bodies embed the author's avatar link: a new avatar shows at once."""

import pytest

from apps.community.tests.factories import ArticleFactory
from apps.users.tests.factories import UserFactory
from apps.users.tests.test_me import AVATAR, image_file

ARTICLES = "/api/community/articles/"


@pytest.mark.django_db
def test_article_list_shows_the_authors_new_avatar_at_once(
    client_for, django_capture_on_commit_callbacks
):
    author = UserFactory()
    article = ArticleFactory(user=author)
    reader = client_for(UserFactory())

    def avatar_seen() -> str | None:
        rows = reader.get(ARTICLES).json()["results"]
        return next(r["user_avatar"] for r in rows if r["id"] == article.pk)

    assert avatar_seen() is None  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(author).post(AVATAR, {"file": image_file()}, format="multipart")
    assert response.status_code == 200

    assert avatar_seen() == response.json()["avatar"]


@pytest.mark.django_db
def test_a_username_changed_in_the_admin_shows_at_once(
    client_for, django_capture_on_commit_callbacks
):
    author = UserFactory(username="before")
    article = ArticleFactory(user=author)
    reader = client_for(UserFactory())

    def name_seen() -> str:
        rows = reader.get(ARTICLES).json()["results"]
        return next(r["user_name"] for r in rows if r["id"] == article.pk)

    assert name_seen() == "before"  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        author.username = "after"
        author.save()  # as the admin's change form does (no update_fields)
    assert name_seen() == "after"


@pytest.mark.django_db
def test_a_login_does_not_bypass_the_community_cache(
    client_for, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import update_last_login

    from utils.cache import current_version

    author = UserFactory()
    before = current_version("community:article")
    with django_capture_on_commit_callbacks(execute=True):
        update_last_login(None, author)
    assert current_version("community:article") == before
