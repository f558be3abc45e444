"""Articles API (API.md §2.5): CRUD, role matrix, sanitised HTML, caching, search."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.community.models import Article
from apps.community.services import article_create, render_markdown
from apps.community.tests.factories import ArticleFactory, CommentFactory
from apps.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ARTICLES = "/api/community/articles/"
ARTICLE_KEYS = {
    "id", "title", "content", "content_html", "page_view", "user", "user_name", "user_avatar",
    "create_time", "update_time",
}  # fmt: skip


def detail(pk: int) -> str:
    return f"{ARTICLES}{pk}/"


# --- sanitiser ---------------------------------------------------------------------------------


def test_sanitiser_strips_script_event_handlers_and_javascript_urls():
    html = render_markdown(
        "# 标题\n\n<script>alert('x')</script>\n\n"
        '<img src="a.png" onerror="alert(1)"> <a href="javascript:alert(2)" onclick="x()">链接</a> '
        "[md link](javascript:alert(3)) [ok](https://example.com) **粗体**"
    )
    lowered = html.lower()
    assert "<script" not in lowered
    assert "alert('x')" not in html
    assert "onerror" not in lowered
    assert "onclick" not in lowered
    assert "javascript:" not in lowered
    assert '<img src="a.png">' in html
    assert '<a href="https://example.com" rel="noopener noreferrer">ok</a>' in html
    assert "<strong>粗体</strong>" in html
    assert "<h1>标题</h1>" in html


def test_sanitiser_drops_style_and_iframe_and_data_urls():
    html = render_markdown(
        '<style>body{}</style><iframe src="https://evil"></iframe>'
        '<a href="data:text/html,<script>1</script>">d</a><svg onload="x()"></svg>'
    )
    assert "<style" not in html
    assert "body{}" not in html
    assert "<iframe" not in html
    assert "data:" not in html
    assert "onload" not in html


# --- create / read -----------------------------------------------------------------------------


def test_create_renders_sanitised_html_and_ignores_server_owned_fields(client_for, student):
    other = UserFactory()
    resp = client_for(student).post(
        ARTICLES,
        {
            "title": "我的第一篇",
            "content": "正文 <script>x()</script> **加粗**",
            "user": other.pk,
            "page_view": 999,
            "content_html": "<script>evil()</script>",
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert set(body) == ARTICLE_KEYS
    assert body["user"] == student.pk
    assert body["user_name"] == student.username
    assert body["user_avatar"] is None
    assert body["page_view"] == 0
    assert "<strong>加粗</strong>" in body["content_html"]
    assert "script" not in body["content_html"]
    assert body["content"] == "正文 <script>x()</script> **加粗**"  # the source is kept as sent


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "", "content": "x"}, "title"),
        ({"title": "t" * 101, "content": "x"}, "title"),
        ({"title": "t", "content": ""}, "content"),
        ({"title": "t", "content": "x" * 50_001}, "content"),
        ({"content": "x"}, "title"),
    ],
)
def test_create_validation(client_for, user, payload, field):
    resp = client_for(user).post(ARTICLES, payload, format="json")
    assert resp.status_code == 400
    assert field in resp.json()


def test_anonymous_is_401(api_client):
    assert api_client.get(ARTICLES).status_code == 401
    assert (
        api_client.post(ARTICLES, {"title": "t", "content": "c"}, format="json").status_code == 401
    )


def test_list_newest_first_filter_by_user_and_hides_deleted(client_for, user):
    author = UserFactory()
    a1 = ArticleFactory(user=author)
    a2 = ArticleFactory(user=author)
    other = ArticleFactory()
    ArticleFactory(user=author, is_delete=True)
    client = client_for(user)

    everything = client.get(ARTICLES).json()
    assert [r["id"] for r in everything["results"]] == [other.pk, a2.pk, a1.pk]
    assert everything["count"] == 3

    mine = client.get(ARTICLES, {"user": author.pk}).json()
    assert [r["id"] for r in mine["results"]] == [a2.pk, a1.pk]
    assert client.get(ARTICLES, {"user": "abc"}).status_code == 400


def test_detail_counts_each_view_and_list_does_not(client_for, user):
    article = ArticleFactory()
    client = client_for(user)
    assert [client.get(detail(article.pk)).json()["page_view"] for _ in range(3)] == [1, 2, 3]
    listed = client.get(ARTICLES).json()["results"][0]
    assert listed["page_view"] == 3
    assert client.get(detail(article.pk)).json()["page_view"] == 4


def test_deleted_or_unknown_article_is_404(client_for, user):
    gone = ArticleFactory(is_delete=True)
    client = client_for(user)
    assert client.get(detail(gone.pk)).status_code == 404
    assert client.get(detail(999_999)).status_code == 404


# --- role matrix for writes ------------------------------------------------------------------


@pytest.fixture
def owned(db):
    owner = UserFactory(username="article_owner")
    return ArticleFactory(user=owner, title="原标题")


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("staff", 200), ("teacher", 403), ("student", 403), ("user", 403)],
)
def test_update_role_matrix(client_for, owned, staff, teacher, student, user, who, expected):
    caller = {"owner": owned.user, "staff": staff, "teacher": teacher, "student": student}.get(
        who, user
    )
    resp = client_for(caller).patch(detail(owned.pk), {"title": "新标题"}, format="json")
    assert resp.status_code == expected
    owned.refresh_from_db()
    assert owned.title == ("新标题" if expected == 200 else "原标题")


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 204), ("staff", 204), ("teacher", 403), ("student", 403), ("user", 403)],
)
def test_delete_role_matrix(client_for, owned, staff, teacher, student, user, who, expected):
    caller = {"owner": owned.user, "staff": staff, "teacher": teacher, "student": student}.get(
        who, user
    )
    resp = client_for(caller).delete(detail(owned.pk))
    assert resp.status_code == expected
    owned.refresh_from_db()
    assert owned.is_delete is (expected == 204)


def test_put_replaces_title_and_content_and_rerenders(client_for, owned):
    client = client_for(owned.user)
    resp = client.put(detail(owned.pk), {"title": "新", "content": "*斜体*"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["content_html"] == "<p><em>斜体</em></p>"
    assert client.put(detail(owned.pk), {"title": "只改标题"}, format="json").status_code == 400
    assert (
        client.patch(detail(owned.pk), {"content": "x" * 50_001}, format="json").status_code == 400
    )


def test_writes_on_deleted_article_are_404(client_for, owned):
    owned.is_delete = True
    owned.save()
    client = client_for(owned.user)
    assert client.patch(detail(owned.pk), {"title": "x"}, format="json").status_code == 404
    assert client.delete(detail(owned.pk)).status_code == 404


def test_soft_delete_hides_the_comments(client_for, owned, user):
    comment = CommentFactory(article=owned)
    client = client_for(owned.user)
    assert client.get("/api/community/comments/", {"article": owned.pk}).json()["count"] == 1
    assert client.delete(detail(owned.pk)).status_code == 204
    assert client.get("/api/community/comments/", {"article": owned.pk}).status_code == 404
    assert client.get(f"/api/community/comments/{comment.pk}/").status_code == 404
    assert client.get(ARTICLES).json()["count"] == 0


# --- caching -------------------------------------------------------------------------------------


def test_list_is_cached_and_any_write_invalidates(client_for, user):
    first = article_create(user=user, title="一", content="c")
    client = client_for(user)
    assert client.get(ARTICLES).json()["count"] == 1
    with CaptureQueriesContext(connection) as cached:
        assert client.get(ARTICLES).json()["count"] == 1
    assert not any("COUNT(" in q["sql"].upper() for q in cached.captured_queries)  # page from cache

    Article.objects.filter(pk=first.pk).update(title="绕过服务")  # no bump: cache still serves
    assert client.get(ARTICLES).json()["results"][0]["title"] == "一"
    resp = client.post(ARTICLES, {"title": "二", "content": "c"}, format="json")  # bumps
    titles = [r["title"] for r in client.get(ARTICLES).json()["results"]]
    assert resp.status_code == 201
    assert titles == ["二", "绕过服务"]


def test_cached_detail_still_shows_exact_page_view(client_for, user, student):
    article = ArticleFactory()
    counts = [
        client_for(u).get(detail(article.pk)).json()["page_view"] for u in (user, user, student)
    ]
    assert counts == [1, 2, 3]


# --- search (database backend; Elasticsearch: tests/test_community_search_es.py) ----------------


@pytest.fixture
def database_backend(settings):
    settings.SEARCH_BACKEND = "database"
    settings.ELASTICSEARCH_URL = ""


def test_search_envelope_highlights_and_paging(database_backend, client_for, user):
    for i in range(3):
        ArticleFactory(title=f"Python 入门 {i}", content=f"学习 <b>python</b> 第{i}课")
    ArticleFactory(title="无关", content="别的内容")
    ArticleFactory(title="Python 已删", is_delete=True)
    client = client_for(user)

    page = client.get(f"{ARTICLES}search/", {"text": "python", "limit": 2}).json()
    assert page["count"] == 3
    assert page["previous"] is None
    assert "offset=2" in page["next"]
    assert page["next"].startswith("http://testserver/")
    hit = page["results"][0]
    assert hit["title_highlight"] == '<em class="hl">Python</em> 入门 2'
    assert hit["content_highlight"] == '学习 &lt;b&gt;<em class="hl">python</em>&lt;/b&gt; 第2课'
    assert set(hit) == ARTICLE_KEYS | {"title_highlight", "content_highlight"}

    last = client.get(page["next"]).json()
    assert [r["title"] for r in last["results"]] == ["Python 入门 0"]
    assert last["next"] is None
    assert last["previous"] is not None

    everything = client.get(f"{ARTICLES}search/").json()
    assert everything["count"] == 4
    assert everything["results"][0]["title_highlight"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 51},
        {"limit": 0},
        {"offset": -1},
        {"offset": 9990, "limit": 20},
        {"text": "x" * 101},
    ],
)
def test_search_rejects_bad_params(database_backend, client_for, user, params):
    assert client_for(user).get(f"{ARTICLES}search/", params).status_code == 400


def test_admin_save_rerenders_html_and_invalidates_cache(client, client_for, staff):
    article = ArticleFactory(content="旧")
    reader = client_for(staff)
    assert reader.get(detail(article.pk)).json()["content"] == "旧"
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    resp = client.post(
        f"/admin/community/article/{article.pk}/change/",
        {"title": article.title, "content": "<script>x</script>*新*", "user": article.user_id},
    )
    assert resp.status_code == 302, resp.content[:500]
    body = reader.get(detail(article.pk)).json()
    assert body["content_html"].strip() == "<p><em>新</em></p>"  # script dropped, cache bumped
    # the admin's "changed successfully" message, kept in the session (settings.MESSAGE_STORAGE)
    assert "sessionid" in resp.cookies
    assert "messages" not in resp.cookies
    page = client.get(resp["Location"])
    messages = [str(m) for m in page.context["messages"]]
    assert any(article.title in m for m in messages), messages
