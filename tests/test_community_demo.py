"""`apps.community.demo.load`: 30 articles with threads, idempotent."""

import io

import pytest

from apps.community import demo
from apps.community.models import Article, Comment

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent(teacher, student):
    demo.load(stdout=io.StringIO(), options={})
    articles, comments = Article.objects.count(), Comment.objects.count()
    out = io.StringIO()
    demo.load(stdout=out, options={})
    assert articles == len(demo.TOPICS) == 30
    assert comments > articles
    assert (Article.objects.count(), Comment.objects.count()) == (articles, comments)
    assert "0 created, 30 kept" in out.getvalue()
    reply = Comment.objects.filter(parent_comment__isnull=False).first()
    assert reply.root_id == reply.parent_comment_id
    assert reply.article_id == reply.parent_comment.article_id
    assert "<h1>" in Article.objects.first().content_html
