"""Demo articles and comment threads for `manage.py load_demo` (idempotent, fast on SQLite).

30 Chinese Markdown articles by the demo users (`teacher`, `student`, `admin`; created by the
users demo that runs first), each with a few top-level comments and nested replies. An article
is recognised by its title; existing ones are left as they are. New articles are mirrored into
the `article` index after commit when Elasticsearch is configured.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from apps.community import search
from apps.community.models import Article, Comment
from apps.community.services import CACHE_NAMESPACE, render_markdown
from apps.users.models import User
from utils import cache as response_cache
from utils.exceptions import SearchUnavailable

TOPICS = (
    "Python 列表推导式", "Django ORM 查询优化", "Redis 缓存设计", "MySQL 索引原理", "Celery 异步任务",
    "Elasticsearch 中文分词", "REST 接口设计规范", "JWT 认证与刷新", "Git 分支管理", "Linux 常用命令",
    "Docker 镜像瘦身", "Nginx 反向代理", "前端 Vue 组件通信", "算法：二分查找", "算法：动态规划入门",
    "数据结构：链表", "数据结构：哈希表", "操作系统：进程与线程", "计算机网络：TCP 三次握手",
    "HTTP 缓存头", "单元测试怎么写", "代码评审清单", "正则表达式速查", "高数：极限与连续",
    "线性代数：矩阵乘法", "英语四级备考经验", "期末复习计划", "学习笔记整理方法", "编程竞赛心得",
    "毕业设计选题建议",
)  # fmt: skip
COMMENTS = (
    "写得很清楚，收藏了！",
    "第二部分能再展开讲讲吗？",
    "感谢分享",
    "我补充一点：注意边界条件。",
)
REPLIES = ("同意楼上", "已经补充在文末了", "谢谢提醒", "这里我也踩过坑")


def _content(n: int, title: str) -> str:
    return (
        f"# {title}\n\n"
        f"这是第 {n + 1} 篇示例文章，介绍**{title}**的要点。\n\n"
        "## 要点\n\n"
        "1. 先理解概念，再动手练习；\n"
        "2. 多看官方文档；\n"
        "3. 做好笔记，定期复习。\n\n"
        "```python\nprint('你好，世界')\n```\n\n"
        "> 学而不思则罔，思而不学则殆。\n"
    )


@transaction.atomic
def load(*, stdout: Any, options: dict[str, Any]) -> None:
    """Create the demo articles that are missing, with their comment threads."""
    authors = list(User.objects.filter(username__in=("teacher", "student", "admin")).order_by("id"))
    if not authors:
        authors = [User.objects.get_or_create(username="community_demo")[0]]
    existing = set(Article.objects.filter(title__in=TOPICS).values_list("title", flat=True))
    missing = [(n, t) for n, t in enumerate(TOPICS) if t not in existing]
    Article.objects.bulk_create(
        Article(
            title=title,
            content=_content(n, title),
            content_html=render_markdown(_content(n, title)),
            page_view=(n * 37) % 200,
            user=authors[n % len(authors)],
        )
        for n, title in missing
    )
    articles = list(Article.objects.filter(title__in=[t for _, t in missing]))
    Comment.objects.bulk_create(
        Comment(article=a, user=authors[(i + k) % len(authors)], content=COMMENTS[k])
        for i, a in enumerate(articles)
        for k in range(1 + i % len(COMMENTS))
    )
    tops = list(Comment.objects.filter(article__in=articles, parent_comment__isnull=True))
    replies = Comment.objects.bulk_create(
        Comment(
            article_id=top.article_id,
            user=authors[(j + 1) % len(authors)],
            content=REPLIES[j % len(REPLIES)],
            parent_comment=top,
            root=top,
            depth=2,
        )
        for j, top in enumerate(tops)
        if j % 2 == 0
    )
    if articles:
        response_cache.bump(CACHE_NAMESPACE)
    stdout.write(
        f"   articles: {len(articles)} created, {len(existing)} kept; "
        f"comments: {len(tops) + len(replies)} created"
    )
    if articles and search.use_elasticsearch():  # bulk_create bypasses the services' sync
        transaction.on_commit(partial(_index, [a.pk for a in articles], stdout))


def _index(article_ids: list[int], stdout: Any) -> None:
    try:
        search.sync_articles(article_ids=article_ids)
    except SearchUnavailable:
        stdout.write(
            "   article index not updated: run `manage.py search_index --index article --reconcile`"
        )
