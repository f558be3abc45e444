"""Benchmark of the community hot paths: a comment-thread page and the article detail.

Run: `.venv/bin/python bench/community_threads.py [repeats]` (embedded default or any
DATABASE_URL/REDIS_URL). Uses a throw-away test database. For threads of 10, 100, 200 and
1000 comments (10 roots, replies nested up to depth 8) it prints the queries per page request
(constant by design), the median/p95 latency and the median CPU time of this process per
request; then the article detail latency (cached body + page-view count). Writes
`bench/results/community_threads.json`.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

SIZES = (10, 100, 200, 1000)  # comments per article; the page shows all of them (10 roots)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
    }


def build_thread(article, users, size: int) -> None:
    from apps.community.models import MAX_COMMENT_DEPTH, Comment

    roots = Comment.objects.bulk_create(
        Comment(article=article, user=users[i % 2], content=f"顶层 {i}") for i in range(10)
    )
    roots = list(Comment.objects.filter(article=article, parent_comment__isnull=True))
    parents = list(roots)
    for i in range(size - 10):
        parent = parents[i % len(parents)]
        if parent.depth >= MAX_COMMENT_DEPTH:
            parent = roots[i % 10]
        parents.append(
            Comment.objects.create(
                article=article,
                user=users[i % 2],
                content=f"回复 {i}",
                parent_comment=parent,
                root_id=parent.root_id or parent.pk,
                depth=parent.depth + 1,
            )
        )


def main(repeats: int) -> dict:
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection, reset_queries
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.community.tests.factories import ArticleFactory
    from apps.users.tests.factories import UserFactory

    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"] = "1000000/hour"
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    result: dict = {
        "repeats": repeats,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "redis": bool(settings.REDIS_URL),
        "threads": {},
    }
    try:
        for alias in settings.CACHES:
            caches[alias].clear()
        users = [UserFactory(), UserFactory()]
        client = APIClient()
        token = RefreshToken.for_user(users[0]).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        for size in SIZES:
            article = ArticleFactory(user=users[1])
            build_thread(article, users, size)
            url = f"/api/community/comments/?article={article.pk}&size=10"
            reset_queries()  # DEBUG keeps a bounded query log; a full one would count as 0
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            times, cpu = [], []
            for _ in range(repeats):
                t, c = time.perf_counter(), time.process_time()
                assert client.get(url).status_code == 200
                cpu.append((time.process_time() - c) * 1000)
                times.append((time.perf_counter() - t) * 1000)
            result["threads"][str(size)] = {
                "queries": len(ctx),
                **summary(times),
                # CPU of this process only: Django/DRF, building the tree, JSON (with MariaDB the
                # server's query time is excluded) — steadier than wall time on a busy machine.
                "cpu_median_ms": round(statistics.median(cpu), 2),
            }
        article = ArticleFactory(user=users[1])
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            assert client.get(f"/api/community/articles/{article.pk}/").status_code == 200
            times.append((time.perf_counter() - t) * 1000)
        result["article_detail"] = summary(times)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return result


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "community_threads.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
