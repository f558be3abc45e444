"""Comments API (API.md §2.5): threads, nesting, depth limit, soft-delete stubs, permissions,
and a thread page in a constant number of queries."""

import pytest

from apps.community.models import MAX_COMMENT_DEPTH, Comment
from apps.community.services import comment_create
from apps.community.tests.factories import ArticleFactory, CommentFactory
from apps.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COMMENTS = "/api/community/comments/"
THREAD_QUERIES = 4  # see test_thread_page_query_count_does_not_grow


def url(pk: int) -> str:
    return f"{COMMENTS}{pk}/"


def test_create_top_level_and_reply_with_reply_username(client_for, user):
    alice = UserFactory(username="alice")
    article = ArticleFactory()
    top = client_for(alice).post(
        COMMENTS, {"article": article.pk, "content": "Nice!", "user": user.pk}, format="json"
    )
    assert top.status_code == 201, top.json()
    top_body = top.json()
    assert top_body["user"] == alice.pk  # server-owned
    assert top_body["reply_username"] is None
    assert top_body["sonComments"] == []

    reply = client_for(user).post(
        COMMENTS,
        {"article": article.pk, "content": "Thanks", "parent_comment": top_body["id"]},
        format="json",
    )
    assert reply.status_code == 201
    body = reply.json()
    assert body["parent_comment"] == top_body["id"]
    assert body["reply_username"] == "alice"
    assert body["user_name"] == user.username
    assert {
        "id", "article", "user", "user_name", "user_avatar", "content", "parent_comment",
        "reply_username", "create_time", "is_deleted", "sonComments",
    } == set(body)  # fmt: skip


@pytest.mark.parametrize(
    "payload",
    [
        {"content": "x"},
        {"article": 999_999, "content": "x"},
        {"article": "not-a-number", "content": "x"},
        {"article": "ART", "content": ""},
        {"article": "ART", "content": "x" * 2001},
        {"article": "ART", "content": "x", "parent_comment": 999_999},
    ],
)
def test_create_validation(client_for, user, payload):
    article = ArticleFactory()
    data = {k: (article.pk if v == "ART" else v) for k, v in payload.items()}
    assert client_for(user).post(COMMENTS, data, format="json").status_code == 400


def test_parent_must_belong_to_the_same_article(client_for, user):
    parent = CommentFactory()
    other = ArticleFactory()
    resp = client_for(user).post(
        COMMENTS, {"article": other.pk, "content": "x", "parent_comment": parent.pk}, format="json"
    )
    assert resp.status_code == 400
    assert "parent_comment" in resp.json()


def test_cannot_comment_on_deleted_article_or_reply_to_deleted_comment(client_for, user):
    gone = ArticleFactory(is_delete=True)
    deleted_parent = CommentFactory(is_delete=True)
    client = client_for(user)
    assert (
        client.post(COMMENTS, {"article": gone.pk, "content": "x"}, format="json").status_code
        == 400
    )
    resp = client.post(
        COMMENTS,
        {"article": deleted_parent.article_id, "content": "x", "parent_comment": deleted_parent.pk},
        format="json",
    )
    assert resp.status_code == 400


def test_depth_limit_is_eight(client_for, user):
    article = ArticleFactory()
    parent = None
    for _ in range(MAX_COMMENT_DEPTH):
        parent = comment_create(user=user, article=article, content="层", parent_comment=parent)
    assert parent.depth == MAX_COMMENT_DEPTH
    resp = client_for(user).post(
        COMMENTS,
        {"article": article.pk, "content": "太深", "parent_comment": parent.pk},
        format="json",
    )
    assert resp.status_code == 400
    assert "parent_comment" in resp.json()
    depth7 = parent.parent_comment
    ok = client_for(user).post(
        COMMENTS,
        {"article": article.pk, "content": "可以", "parent_comment": depth7.pk},
        format="json",
    )
    assert ok.status_code == 201


def test_list_requires_a_live_article(client_for, user):
    client = client_for(user)
    missing = client.get(COMMENTS)
    assert missing.status_code == 400
    assert "article" in missing.json()
    assert client.get(COMMENTS, {"article": "x"}).status_code == 400
    assert client.get(COMMENTS, {"article": 999_999}).status_code == 404


def test_thread_order_and_recursive_nesting(client_for, user):
    article = ArticleFactory()
    a = comment_create(user=user, article=article, content="a")
    b = comment_create(user=user, article=article, content="b")
    a1 = comment_create(user=user, article=article, content="a1", parent_comment=a)
    a2 = comment_create(user=user, article=article, content="a2", parent_comment=a)
    a1x = comment_create(user=user, article=article, content="a1x", parent_comment=a1)
    body = client_for(user).get(COMMENTS, {"article": article.pk}).json()
    assert body["count"] == 2
    top_a = body["results"][1]
    assert [c["id"] for c in body["results"]] == [b.pk, a.pk]  # top level newest first
    assert [c["id"] for c in top_a["sonComments"]] == [a1.pk, a2.pk]  # replies oldest first
    assert [c["id"] for c in top_a["sonComments"][0]["sonComments"]] == [a1x.pk]


def test_deleted_comment_with_replies_stays_as_a_stub(client_for, user):
    bob = UserFactory(username="bob")
    article = ArticleFactory()
    top = comment_create(user=bob, article=article, content="顶层")
    mid = comment_create(user=bob, article=article, content="中间", parent_comment=top)
    leaf = comment_create(user=user, article=article, content="叶子", parent_comment=mid)
    lonely = comment_create(user=bob, article=article, content="无回复")
    client = client_for(bob)
    for c in (top, mid, lonely):
        assert client.delete(url(c.pk)).status_code == 204

    body = client.get(COMMENTS, {"article": article.pk}).json()
    assert body["count"] == 1  # `lonely` vanished; `top` stays because of `leaf`
    stub = body["results"][0]
    assert stub["id"] == top.pk
    assert stub["is_deleted"] is True
    assert stub["content"] is None
    assert stub["user"] is None
    assert stub["user_name"] is None
    mid_stub = stub["sonComments"][0]
    assert (mid_stub["id"], mid_stub["is_deleted"], mid_stub["content"]) == (mid.pk, True, None)
    leaf_body = mid_stub["sonComments"][0]
    assert (leaf_body["id"], leaf_body["content"], leaf_body["is_deleted"]) == (
        leaf.pk,
        "叶子",
        False,
    )
    assert leaf_body["reply_username"] is None  # its parent's author is hidden with the parent
    assert client.get(url(top.pk)).status_code == 404

    assert client_for(user).delete(url(leaf.pk)).status_code == 204
    assert client.get(COMMENTS, {"article": article.pk}).json()["count"] == 0


@pytest.mark.parametrize(
    ("who", "expected"),
    [("comment_owner", 204), ("article_owner", 204), ("staff", 204), ("other", 403)],
)
def test_delete_permissions(client_for, staff, user, who, expected):
    comment = CommentFactory()
    caller = {
        "comment_owner": comment.user,
        "article_owner": comment.article.user,
        "staff": staff,
        "other": user,
    }[who]
    assert client_for(caller).delete(url(comment.pk)).status_code == expected
    comment.refresh_from_db()
    assert comment.is_delete is (expected == 204)


def test_comments_cannot_be_edited(client_for):
    comment = CommentFactory()
    client = client_for(comment.user)
    assert client.put(url(comment.pk), {"content": "x"}, format="json").status_code == 405
    assert client.patch(url(comment.pk), {"content": "x"}, format="json").status_code == 405
    comment.refresh_from_db()
    assert comment.content != "x"


def test_detail_shows_the_subtree(client_for, user):
    article = ArticleFactory()
    top = comment_create(user=user, article=article, content="t")
    mid = comment_create(user=user, article=article, content="m", parent_comment=top)
    comment_create(user=user, article=article, content="l", parent_comment=mid)
    comment_create(user=user, article=article, content="sibling", parent_comment=top)
    body = client_for(user).get(url(mid.pk)).json()
    assert body["content"] == "m"
    assert [c["content"] for c in body["sonComments"]] == ["l"]
    assert body["reply_username"] == user.username


def _thread(article, user, size: int) -> None:
    """`size` comments: 10 roots, the rest spread as replies up to depth 8."""
    roots = [Comment(article=article, user=user, content=f"r{i}") for i in range(min(10, size))]
    Comment.objects.bulk_create(roots)
    parents = list(roots)
    for i in range(size - len(roots)):
        parent = parents[i % len(parents)]
        if parent.depth >= MAX_COMMENT_DEPTH:
            parent = roots[i % len(roots)]
        reply = Comment.objects.create(
            article=article,
            user=user if i % 2 else article.user,
            content=f"c{i}",
            parent_comment=parent,
            root_id=parent.root_id or parent.pk,
            depth=parent.depth + 1,
        )
        parents.append(reply)


@pytest.mark.parametrize("size", [10, 1000])
def test_thread_page_query_count_does_not_grow(client_for, user, django_assert_num_queries, size):
    article = ArticleFactory()
    _thread(article, user, size)
    client = client_for(user)
    client.get("/api/users/area/")  # warm the caller's cached auth state (apps/users/auth_state.py)
    # article + page count + page + all replies of the page's threads
    with django_assert_num_queries(THREAD_QUERIES):
        body = client.get(COMMENTS, {"article": article.pk, "size": 10}).json()

    def count(nodes):
        return sum(1 + count(n["sonComments"]) for n in nodes)

    assert count(body["results"]) == size  # every comment of the thread is in the page


def _reference(comment: Comment, request_host: str) -> dict | None:
    """The §2.5 node of `comment` built the slow, obvious way (model instances, one query per
    node); None when it is deleted with no live comment below it."""
    from rest_framework.fields import DateTimeField

    children = [
        child
        for child in (
            _reference(reply, request_host)
            for reply in comment.replies.order_by("create_time", "id")
        )
        if child is not None
    ]
    if comment.is_delete and not children:
        return None
    parent = comment.parent_comment
    live = not comment.is_delete
    avatar = None
    if live and comment.user.avatar:
        url = comment.user.avatar.url
        avatar = url if url.startswith("http") else f"{request_host}{url}"
    return {
        "id": comment.pk,
        "article": comment.article_id,
        "user": comment.user_id if live else None,
        "user_name": comment.user.username if live else None,
        "user_avatar": avatar,
        "content": comment.content if live else None,
        "parent_comment": comment.parent_comment_id,
        "reply_username": parent.user.username if parent and not parent.is_delete else None,
        "create_time": DateTimeField().to_representation(comment.create_time),
        "is_deleted": comment.is_delete,
        "sonComments": children,
    }


def test_thread_page_and_detail_match_a_naive_rendering(client_for, user):
    """A random tree (40 comments, some deleted, authors with and without avatars) renders exactly
    as the obvious recursive construction: keys, stubs, reply_username, order, avatar URLs."""
    import random

    rng = random.Random(5)
    authors = [UserFactory(avatar="avatars/a.png"), UserFactory(avatar=None), user]
    article = ArticleFactory()
    made: list[Comment] = []
    for _ in range(40):
        parent = rng.choice([None, *made]) if made else None
        if parent is not None and parent.depth >= MAX_COMMENT_DEPTH:
            parent = None
        made.append(
            comment_create(
                user=rng.choice(authors), article=article, content="c", parent_comment=parent
            )
        )
    for comment in rng.sample(made, 15):
        Comment.objects.filter(pk=comment.pk).update(is_delete=True)

    host = "http://testserver"
    roots = Comment.objects.filter(article=article, parent_comment=None).order_by(
        "-create_time", "-id"
    )
    expected = [node for node in (_reference(root, host) for root in roots) if node]
    client = client_for(user)
    body = client.get(COMMENTS, {"article": article.pk, "size": 100}).json()
    assert body["count"] == len(expected)
    assert body["results"] == expected
    assert any(node["is_deleted"] for node in expected)  # the sample did produce stubs
    live_reply = next(
        c for c in made if c.parent_comment_id and not Comment.objects.get(pk=c.pk).is_delete
    )
    assert client.get(url(live_reply.pk)).json() == _reference(
        Comment.objects.get(pk=live_reply.pk), host
    )
