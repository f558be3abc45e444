"""Writes of the community app: articles and comments (API.md §2.5).

Every write bumps the response-cache version of `community:article` (article lists/details
are cached per visibility bucket) and, for articles, enqueues the search-index sync on commit.
Rule violations raise `django.core.exceptions.ValidationError({"<field>": [...]})` → 400.
"""

from __future__ import annotations

import logging
from functools import partial

import markdown
import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.community import tasks
from apps.community.models import MAX_COMMENT_DEPTH, Article, Comment
from apps.users.models import User
from utils import cache as response_cache

logger = logging.getLogger(__name__)

CACHE_NAMESPACE = "community:article"
MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "nl2br"]
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(content: str) -> str:
    """Markdown source → HTML with nh3's allow-list: no `<script>`/`<style>` (content dropped),
    no `on*` attributes, only http/https/mailto/relative URLs (so no `javascript:`),
    links get `rel="noopener noreferrer"`.
    """
    html = markdown.markdown(content, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return nh3.clean(html, url_schemes=URL_SCHEMES)


def _bump_cache() -> None:
    # Now (this transaction's own later reads) and again after commit: a concurrent reader that
    # cached pre-commit rows under the first bump's version is bypassed by the second.
    response_cache.bump(CACHE_NAMESPACE)
    transaction.on_commit(partial(response_cache.bump, CACHE_NAMESPACE))


def _after_write(article_id: int) -> None:
    _bump_cache()
    transaction.on_commit(partial(tasks.article_index_task.delay, article_id))


def author_profile_changed(sender: object, *, user_id: int, **kwargs: object) -> None:
    """Receiver of `apps.users.signals.public_profile_changed` (sent after commit): cached
    article and comment bodies embed authors' names and avatar links, so they are bypassed."""
    response_cache.bump(CACHE_NAMESPACE)


def after_admin_write(*, article_id: int) -> None:
    """After a Django-admin save of article `article_id` (staff tool, model form): bump the
    cached article bodies now and after commit, and resync its search document after commit."""
    _after_write(article_id)


@transaction.atomic
def article_create(*, user: User, title: str, content: str) -> Article:
    """Create an article of `user`; `content_html` is rendered and sanitised here."""
    article = Article.objects.create(
        user=user, title=title, content=content, content_html=render_markdown(content)
    )
    _after_write(article.pk)
    logger.info("article %s created by user %s", article.pk, user.pk)
    return article


@transaction.atomic
def article_update(
    *, article: Article, title: str | None = None, content: str | None = None
) -> Article:
    """Change title and/or content (None = keep); re-render `content_html`."""
    fields = ["update_time"]
    if title is not None:
        article.title = title
        fields.append("title")
    if content is not None:
        article.content = content
        article.content_html = render_markdown(content)
        fields += ["content", "content_html"]
    article.save(update_fields=fields)
    _after_write(article.pk)
    return article


@transaction.atomic
def article_delete(*, article: Article) -> None:
    """Soft-delete the article; its comments disappear with it (every comment read requires a
    live article), and its search document is removed after commit."""
    # update_time moves too: the index tombstone outranks the last indexed state, and a
    # rebuild running meanwhile catches the delete up.
    Article.objects.filter(pk=article.pk).update(is_delete=True, update_time=timezone.now())
    _after_write(article.pk)
    logger.info("article %s deleted", article.pk)


@transaction.atomic
def comment_create(
    *, user: User, article: Article, content: str, parent_comment: Comment | None = None
) -> Comment:
    """Add a comment, or a reply to `parent_comment` (live, same article, depth < 8).

    Raises ValidationError({"parent_comment": [...]}) for a parent of another article or
    too deep a thread.
    """
    root_id, depth = None, 1
    if parent_comment is not None:
        if parent_comment.article_id != article.pk:
            raise ValidationError(
                {"parent_comment": ["The parent comment belongs to another article."]}
            )
        if parent_comment.depth >= MAX_COMMENT_DEPTH:
            raise ValidationError(
                {"parent_comment": [f"Replies may nest at most {MAX_COMMENT_DEPTH} levels."]}
            )
        root_id = parent_comment.root_id or parent_comment.pk
        depth = parent_comment.depth + 1
    return Comment.objects.create(
        user=user,
        article=article,
        content=content,
        parent_comment=parent_comment,
        root_id=root_id,
        depth=depth,
    )


@transaction.atomic
def comment_delete(*, comment: Comment) -> None:
    """Soft-delete the comment; with live replies it stays in the thread as a stub."""
    Comment.objects.filter(pk=comment.pk).update(is_delete=True)
    logger.info("comment %s deleted", comment.pk)
