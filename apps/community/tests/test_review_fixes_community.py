"""Regressions from the code review of the community app: the article cache version is bumped
again after commit, and Django-admin deletes/saves go through the services."""

import pytest

from apps.community import services, tasks
from apps.community.models import Article, Comment
from apps.community.tests.factories import ArticleFactory, CommentFactory
from utils import cache as response_cache

NS = services.CACHE_NAMESPACE


@pytest.fixture
def index_calls(monkeypatch) -> list[int]:
    """Record `article_index_task.delay(article_id)` instead of reaching Elasticsearch."""
    calls: list[int] = []
    monkeypatch.setattr(tasks.article_index_task, "delay", calls.append)
    return calls


@pytest.mark.django_db
@pytest.mark.parametrize("write", ["create", "update", "delete"])
def test_article_write_bumps_cache_version_again_after_commit(
    user, index_calls, django_capture_on_commit_callbacks, write
):
    """A reader between the in-transaction bump and the commit caches the old row under the
    bumped version; the after-commit bump must make that entry unreachable."""
    article = ArticleFactory(user=user)
    before = response_cache.current_version(NS)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        if write == "create":
            article = services.article_create(user=user, title="t", content="c")
        elif write == "update":
            services.article_update(article=article, title="new")
        else:
            services.article_delete(article=article)
        seen_before_commit = response_cache.current_version(NS)  # what that reader keys on
    assert seen_before_commit != before  # the in-transaction bump is kept
    for callback in callbacks:
        callback()
    assert response_cache.current_version(NS) != seen_before_commit
    assert index_calls == [article.pk]


@pytest.mark.django_db
def test_admin_delete_view_soft_deletes_article(
    admin_client, index_calls, django_capture_on_commit_callbacks
):
    article = ArticleFactory()
    comment = CommentFactory(article=article)
    before = response_cache.current_version(NS)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/community/article/{article.pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    assert Article.objects.filter(pk=article.pk, is_delete=True).exists()
    assert Comment.objects.filter(pk=comment.pk).exists()  # no cascade: soft delete only
    assert index_calls == [article.pk]  # removed from the search index after commit
    assert response_cache.current_version(NS) != before


@pytest.mark.django_db
def test_admin_delete_selected_soft_deletes_articles(
    admin_client, index_calls, django_capture_on_commit_callbacks
):
    doomed = [ArticleFactory() for _ in range(2)]
    kept = ArticleFactory()
    before = response_cache.current_version(NS)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/community/article/",
            {
                "action": "delete_selected",
                "_selected_action": [a.pk for a in doomed],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert set(Article.objects.filter(is_delete=True).values_list("pk", flat=True)) == {
        a.pk for a in doomed
    }
    assert Article.objects.filter(pk=kept.pk, is_delete=False).exists()
    assert sorted(index_calls) == sorted(a.pk for a in doomed)
    assert response_cache.current_version(NS) != before


@pytest.mark.django_db
def test_admin_delete_comments_soft_deletes(admin_client):
    parent = CommentFactory()
    reply = CommentFactory(parent_comment=parent)
    other = CommentFactory()
    response = admin_client.post(
        "/admin/community/comment/",
        {"action": "delete_selected", "_selected_action": [parent.pk], "post": "yes"},
    )
    assert response.status_code == 302
    response = admin_client.post(f"/admin/community/comment/{other.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert set(Comment.objects.filter(is_delete=True).values_list("pk", flat=True)) == {
        parent.pk,
        other.pk,
    }
    assert Comment.objects.filter(pk=reply.pk, is_delete=False).exists()  # reply not cascaded


@pytest.mark.django_db
def test_admin_save_renders_reindexes_and_bumps_after_commit(
    admin_client, index_calls, django_capture_on_commit_callbacks
):
    article = ArticleFactory()
    data = {"title": "edited", "content": "**bold**", "user": article.user_id, "is_delete": ""}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(f"/admin/community/article/{article.pk}/change/", data)
        seen_before_commit = response_cache.current_version(NS)
    assert response.status_code == 302, response.content[:500]
    for callback in callbacks:
        callback()
    article.refresh_from_db()
    assert article.content_html == "<p><strong>bold</strong></p>"
    assert index_calls == [article.pk]
    assert response_cache.current_version(NS) != seen_before_commit
