"""Article search and the `article` index on a REAL Elasticsearch (API.md §2.5, §3): mapping,
on-commit sync with external versions, soft delete, the search envelope and highlights, 503,
retries while the cluster is down, rebuild with alias swap, reconcile, the `search_index` command.

"Down" is simulated by pointing the client at a closed port. Celery runs eagerly, so retries
happen inline. Missing Elasticsearch → `require_service` (fails under CI, skips elsewhere).
"""

import html
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.community import search, services, tasks
from apps.community.models import Article
from apps.community.tests.factories import ArticleFactory
from apps.users.tests.factories import UserFactory
from apps.work.tests import search_fixtures
from celery_tasks.beat import BEAT_SCHEDULE
from utils import search as es

pytestmark = pytest.mark.django_db

es_index = search_fixtures.es_index
es_outage = search_fixtures.es_outage

ARTICLES = "/api/community/articles/"
SEARCH = f"{ARTICLES}search/"
TAG = re.compile(r"</?em[^>]*>")


def refresh(client) -> None:
    client.indices.refresh(index=es.alias_name("article"))


def documents(client) -> dict[int, dict]:
    """`{id: _source}` of every document behind the alias."""
    refresh(client)
    found = client.search(index=es.alias_name("article"), size=100, query={"match_all": {}})
    return {int(hit["_id"]): hit["_source"] for hit in found["hits"]["hits"]}


def indexed(*articles: Article) -> None:
    search.sync_articles(article_ids=[a.pk for a in articles], refresh=True)


def test_mapping_is_explicit_and_picks_an_analyzer(es_index):
    alias = search.ARTICLE_INDEX.ensure(es_index)
    (index,) = es.alias_indices(es_index, "article")
    mapping = es_index.indices.get_mapping(index=alias)[index]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert set(mapping["properties"]) == {
        "id", "title", "content", "user", "user_name", "create_time", "update_time",
    }  # fmt: skip
    assert mapping["properties"]["content"]["analyzer"] == mapping["_meta"]["analyzer"]
    assert mapping["_meta"]["analyzer"] in {"ik_max_word", "smartcn", "cjk", "standard"}


def test_api_writes_sync_the_document_on_commit(
    es_index, client_for, user, django_capture_on_commit_callbacks
):
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(ARTICLES, {"title": "春晓", "content": "春眠*不觉晓*"}).json()
    doc = documents(es_index)[created["id"]]
    assert doc == {
        "id": created["id"],
        "title": "春晓",
        "content": "春眠*不觉晓*",  # the Markdown source, as the API's `content`
        "user": user.pk,
        "user_name": user.username,
        "create_time": doc["create_time"],
        "update_time": doc["update_time"],
    }
    version = es_index.get(index=es.alias_name("article"), id=created["id"])["_version"]
    row = Article.objects.get(pk=created["id"])
    assert version == es.to_version(row.update_time)

    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"{ARTICLES}{created['id']}/", {"title": "春晓（改）"})
    assert documents(es_index)[created["id"]]["title"] == "春晓（改）"

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{ARTICLES}{created['id']}/").status_code == 204
    assert created["id"] not in documents(es_index)


def test_a_late_stale_upsert_cannot_resurrect_a_deleted_article(es_index):
    article = ArticleFactory()
    indexed(article)
    stale = Article.objects.select_related("user").get(pk=article.pk)  # state before the delete
    services.article_delete(article=article)
    result = search.article_sync_to_index(article_id=article.pk, refresh=True)
    assert (result.deleted, result.indexed) == (1, 0)
    late = es.bulk(es_index, [search.ARTICLE_INDEX.index_action(stale, es.alias_name("article"))])
    assert (late.ok, late.conflicts) == (0, 1)
    assert article.pk not in documents(es_index)
    again = search.article_sync_to_index(article_id=article.pk)  # idempotent
    assert again.not_found + again.conflicts == 1


def test_search_envelope_highlights_paging_and_order(es_index, client_for, user):
    hits = [
        ArticleFactory(title=f"Python 入门 {i}", content=f"学习 <b>python</b> 第{i}课")
        for i in range(3)
    ]
    other = ArticleFactory(title="无关", content="别的内容")
    indexed(*hits, other)
    client = client_for(user)

    page = client.get(SEARCH, {"text": "python", "limit": 2}).json()
    assert page["count"] == 3
    assert page["previous"] is None
    assert "offset=2" in page["next"]
    first = page["results"][0]
    assert TAG.sub("", first["title_highlight"]) == first["title"]
    assert '<em class="hl">Python</em>' in first["title_highlight"]
    number = first["title"].rsplit(" ", 1)[1]
    content = first["content_highlight"]  # escaped by ES's html encoder (`/` → `&#x2F;`)
    assert content.startswith('学习 &lt;b&gt;<em class="hl">python</em>&lt;')
    assert html.unescape(TAG.sub("", content)) == f"学习 <b>python</b> 第{number}课"
    assert first["user_name"] == first_row_user(first["id"])
    rest = client.get(page["next"]).json()
    assert rest["next"] is None
    assert rest["previous"] is not None
    seen = [r["id"] for r in page["results"] + rest["results"]]
    assert sorted(seen) == sorted(a.pk for a in hits)  # every match once across the pages

    everything = client.get(SEARCH).json()  # empty text: all live articles, newest first
    assert [r["id"] for r in everything["results"]] == [other.pk, *[a.pk for a in hits[::-1]]]
    assert everything["results"][0]["title_highlight"] is None
    assert everything["results"][0]["content_highlight"] is None


def first_row_user(article_id: int) -> str:
    return Article.objects.select_related("user").get(pk=article_id).user.username


def test_chinese_query_escaping_and_content_snippet(es_index, client_for, user):
    long_tail = "天" * 400
    poem = ArticleFactory(
        title="<script>静夜思</script>", content=f"{long_tail} 床前明月光，疑是地上霜。 {long_tail}"
    )
    indexed(poem, ArticleFactory(title="春晓", content="春眠不觉晓"))
    body = client_for(user).get(SEARCH, {"text": "明月"}).json()
    assert [r["id"] for r in body["results"]] == [poem.pk]
    result = body["results"][0]
    assert result["title_highlight"] is None  # the title did not match
    snippet = result["content_highlight"]
    assert '<em class="hl">' in snippet
    assert len(TAG.sub("", snippet)) <= 120  # a fragment, not the 800-character body
    assert "明月" in TAG.sub("", snippet)
    title = client_for(user).get(SEARCH, {"text": "静夜思"}).json()["results"][0]
    assert "<script>" not in title["title_highlight"]
    assert html.unescape(TAG.sub("", title["title_highlight"])) == "<script>静夜思</script>"


def test_rows_deleted_before_the_sync_are_dropped(es_index, client_for, user):
    keep, gone = ArticleFactory(title="留下 python"), ArticleFactory(title="删掉 python")
    indexed(keep, gone)
    Article.objects.filter(pk=gone.pk).update(is_delete=True)  # index not told yet
    body = client_for(user).get(SEARCH, {"text": "python"}).json()
    assert [r["id"] for r in body["results"]] == [keep.pk]


def test_missing_index_is_an_empty_result(es_index, client_for, user):
    ArticleFactory(title="python")
    body = client_for(user).get(SEARCH, {"text": "python"}).json()
    assert (body["count"], body["results"]) == (0, [])


def test_unreachable_cluster_is_503(es_index, es_outage, client_for, user):
    es_outage.down()
    resp = client_for(user).get(SEARCH, {"text": "python"})
    assert resp.status_code == 503
    assert resp.json()["code"] == "service_unavailable"


def test_task_retries_while_down_then_reconcile_repairs(
    es_index, es_outage, monkeypatch, user, django_capture_on_commit_callbacks
):
    attempts: list[int] = []
    real = search.article_sync_to_index

    def spy(*, article_id, **kwargs):
        attempts.append(article_id)
        return real(article_id=article_id, **kwargs)

    monkeypatch.setattr(search, "article_sync_to_index", spy)
    old = [ArticleFactory(user=user) for _ in range(2)]
    indexed(*old)
    es_outage.down()
    with django_capture_on_commit_callbacks(execute=True):
        new = services.article_create(user=user, title="夜来风雨声", content="花落知多少")
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(article=old[0], title="改过")
    with django_capture_on_commit_callbacks(execute=True):
        services.article_delete(article=old[1])
    per_task = tasks.article_index_task.max_retries + 1
    assert attempts == [new.pk] * per_task + [old[0].pk] * per_task + [old[1].pk] * per_task

    es_outage.up()
    before = search.reconcile(fix=True, refresh=True)
    assert (before.missing, before.stale, before.extra) == (1, 1, 1)
    after = search.reconcile(fix=False)
    assert (after.missing, after.stale, after.extra, after.db, after.indexed) == (0, 0, 0, 2, 2)
    assert documents(es_index)[old[0].pk]["title"] == "改过"


def test_rebuild_swaps_the_alias_and_catches_up(es_index, client_for, user):
    articles = [ArticleFactory(title=f"python {i}") for i in range(5)]
    indexed(*articles[:2])  # the old index is incomplete
    (old_index,) = es.alias_indices(es_index, "article")
    result = tasks.article_rebuild_task.delay().get()
    assert result["count"] == 5
    assert result["old"] == [old_index]
    assert es.alias_indices(es_index, "article") == [result["index"]]
    assert not es_index.indices.exists(index=old_index)
    assert client_for(user).get(SEARCH, {"text": "python"}).json()["count"] == 5


def test_search_index_command_for_articles(es_index, capsys):
    articles = [ArticleFactory() for _ in range(3)]
    call_command("search_index", "--index", "article", "--rebuild", "--no-progress")
    assert "3 documents" in capsys.readouterr().out
    Article.objects.filter(pk=articles[0].pk).update(is_delete=True, update_time=timezone.now())
    call_command("search_index", "--index", "article", "--reconcile", "--dry-run", "--no-progress")
    assert "found missing=0 stale=0 extra=1" in capsys.readouterr().out
    call_command("search_index", "--index", "article", "--reconcile", "--no-progress")
    assert "fixed missing=0 stale=0 extra=1" in capsys.readouterr().out
    assert sorted(documents(es_index)) == sorted(a.pk for a in articles[1:])
    assert tasks.article_reconcile_task.delay().get()["extra"] == 0


def test_database_backend_has_no_index(settings):
    settings.SEARCH_BACKEND = "database"
    settings.ELASTICSEARCH_URL = ""
    article = ArticleFactory(user=UserFactory())
    assert tasks.article_index_task.delay(article.pk).get() == {
        "indexed": 0, "deleted": 0, "conflicts": 0, "not_found": 0,
    }  # fmt: skip
    assert tasks.article_reconcile_task.delay().get() is None
    with pytest.raises(CommandError):
        call_command("search_index", "--index", "article", "--reconcile")


def test_reconcile_runs_hourly():
    entry = BEAT_SCHEDULE["community-article-reconcile"]
    assert entry == {"task": "apps.community.tasks.article_reconcile_task", "schedule": 3600.0}


def test_demo_articles_are_indexed(es_index, teacher, django_capture_on_commit_callbacks):
    import io

    from apps.community import demo

    with django_capture_on_commit_callbacks(execute=True):
        demo.load(stdout=io.StringIO(), options={})
    assert len(documents(es_index)) == len(demo.TOPICS)
