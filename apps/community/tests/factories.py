"""factory_boy factories of the community app: `ArticleFactory`, `CommentFactory`.

Rows are built directly (no service): `content_html` is rendered with the service's renderer,
and a `CommentFactory(parent_comment=...)` gets the same `root`/`depth` the service would set.
"""

import factory
from factory.django import DjangoModelFactory

from apps.community.models import Article, Comment
from apps.community.services import render_markdown
from apps.users.tests.factories import UserFactory


class ArticleFactory(DjangoModelFactory):
    """A live article with Markdown content."""

    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"文章 {n}")
    content = factory.Sequence(lambda n: f"# 标题 {n}\n\n正文 **{n}**")
    content_html = factory.LazyAttribute(lambda o: render_markdown(o.content))
    user = factory.SubFactory(UserFactory)


class CommentFactory(DjangoModelFactory):
    """A live top-level comment, or a reply when `parent_comment` is given."""

    class Meta:
        model = Comment

    article = factory.LazyAttribute(
        lambda o: o.parent_comment.article if o.parent_comment else ArticleFactory()
    )
    user = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"评论 {n}")
    parent_comment = None
    root = factory.LazyAttribute(
        lambda o: (o.parent_comment.root or o.parent_comment) if o.parent_comment else None
    )
    depth = factory.LazyAttribute(lambda o: o.parent_comment.depth + 1 if o.parent_comment else 1)
