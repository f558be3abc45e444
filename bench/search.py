"""Benchmark of topic search at 50,000 real topics: Elasticsearch vs the database fallback.

Run (MariaDB + Elasticsearch from `make services`, chinese-poetry from `npm ci` at the root):

    DATABASE_URL=mysql://stsys:stsys@127.0.0.1:3306/stsys_search_bench \
    ELASTICSEARCH_URL=http://127.0.0.1:9200 ELASTICSEARCH_INDEX_PREFIX=bench_ \
    .venv/bin/python bench/search.py [topics] [queries]

Steps: migrate; `import_poetry --limit <topics>` (default 50,000; idempotent); a full rebuild
(bulk index rate in docs/s); the same <queries> (default 200) Chinese queries — verse fragments and
author names drawn with a fixed seed from the imported topics — run through `search_topics` on
both backends for a student and a teacher (p50/p95 in ms, DB/ES ratio); reconcile time with no
drift and with 100 missing + 50 stale + 50 extra documents. Prints the figures and writes
`bench/results/search.json`. Refuses an empty ELASTICSEARCH_INDEX_PREFIX (it deletes indices).
"""

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

SEED = 7


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def make_queries(count: int) -> list[str]:
    """Verse fragments (3–6 characters cut from subjects) and author names, seeded."""
    from apps.work.models import Topic, TopicOption

    rng = random.Random(SEED)
    ids = list(Topic.objects.filter(is_delete=False).values_list("pk", flat=True))
    subjects = dict(
        Topic.objects.filter(pk__in=rng.sample(ids, count)).values_list("pk", "subject")
    )
    authors = sorted(set(TopicOption.objects.values_list("text", flat=True)[:5000]))
    queries = []
    for index, subject in enumerate(subjects.values()):
        if index % 4 == 3 and authors:
            queries.append(rng.choice(authors))
            continue
        text = "".join(ch for ch in subject.split("：", 1)[-1] if "\u4e00" <= ch <= "\u9fff")
        size = rng.randint(3, 6)
        start = rng.randint(0, max(len(text) - size, 0))
        queries.append(text[start : start + size] or subject[:4])
    return queries


def timed_search(user, queries: list[str], backend: str) -> tuple[list[float], list[int]]:
    from apps.work.search import search_topics

    settings.SEARCH_BACKEND = backend
    times, counts = [], []
    for text in queries:  # warm-up (caches, JIT, connections): one untimed pass
        search_topics(user=user, text=text, offset=0, limit=10)
    for text in queries:
        began = time.perf_counter()
        result = search_topics(user=user, text=text, offset=0, limit=10)
        times.append((time.perf_counter() - began) * 1000)
        counts.append(result.count)
    settings.SEARCH_BACKEND = "elasticsearch"
    return times, counts


def main() -> None:
    topics = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    query_count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    if not settings.ELASTICSEARCH_URL or not settings.ELASTICSEARCH_INDEX_PREFIX:
        sys.exit("set ELASTICSEARCH_URL and a non-empty ELASTICSEARCH_INDEX_PREFIX")

    from django.contrib.auth.models import Group

    from apps.users.models import STUDENT_GROUP, User
    from apps.work import corpus, search
    from apps.work.models import Topic
    from utils import search as es

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    call_command("import_poetry", "--limit", str(topics), "--no-index")
    import_seconds = time.perf_counter() - began

    client = es.get_client()
    es.delete_prefixed(client)
    rebuilt = search.rebuild()
    live = Topic.objects.filter(is_delete=False).count()
    rate = rebuilt.count / rebuilt.seconds
    print(f"bulk index: {rebuilt.count} docs in {rebuilt.seconds:.1f}s = {rate:.0f} docs/s")

    student, _ = User.objects.get_or_create(username="bench_student")
    student.groups.add(Group.objects.get_or_create(name=STUDENT_GROUP)[0])
    teacher = corpus.corpus_owner()
    queries = make_queries(query_count)
    roles = {}
    for name, user in (("student", student), ("teacher", teacher)):
        es_times, es_counts = timed_search(user, queries, "elasticsearch")
        db_times, db_counts = timed_search(user, queries, "database")
        es_sum, db_sum = summary(es_times), summary(db_times)
        roles[name] = {
            "elasticsearch": es_sum,
            "database": db_sum,
            "ratio_p50_db_over_es": round(db_sum["p50_ms"] / es_sum["p50_ms"], 1),
            "ratio_p95_db_over_es": round(db_sum["p95_ms"] / es_sum["p95_ms"], 1),
            "mean_hits_es": round(statistics.fmean(es_counts), 1),
            "mean_hits_db": round(statistics.fmean(db_counts), 1),
        }
        print(
            f"{name}: ES {es_sum} | DB {db_sum} | p50 ratio {roles[name]['ratio_p50_db_over_es']}x"
        )

    began = time.perf_counter()
    clean = search.reconcile(fix=True)
    clean_seconds = time.perf_counter() - began
    rng = random.Random(SEED)
    ids = rng.sample(list(Topic.objects.filter(is_delete=False).values_list("pk", flat=True)), 200)
    # missing: rows written while ES was down (never indexed)
    unindexed = Topic.objects.bulk_create(
        Topic(
            subject=f"{t.subject}（补录）",
            type=t.type,
            answer=t.answer,
            label_id=t.label_id,
            user_id=t.user_id,
            description=t.description,
        )
        for t in Topic.objects.filter(pk__in=ids[:100])
    )
    for topic in Topic.objects.filter(pk__in=ids[100:150]):
        topic.save(update_fields=["update_time"])  # newer row → stale document
    Topic.objects.filter(pk__in=ids[150:]).update(is_delete=True)  # deleted row → extra document
    began = time.perf_counter()
    drift = search.reconcile(fix=True)
    drift_seconds = time.perf_counter() - began
    after = search.reconcile(fix=False)
    # leave the bench DB as found (a newer update_time outranks the delete tombstones)
    Topic.objects.filter(pk__in=ids[150:]).update(is_delete=False, update_time=timezone.now())
    Topic.objects.filter(pk__in=[t.pk for t in unindexed]).delete()
    search.sync_topics(topic_ids=[*ids[150:], *(t.pk for t in unindexed)])
    print(
        f"reconcile: clean {clean_seconds:.2f}s ({clean.db} rows); with drift "
        f"missing={drift.missing} stale={drift.stale} extra={drift.extra} fixed in "
        f"{drift_seconds:.2f}s; afterwards missing={after.missing} stale={after.stale} "
        f"extra={after.extra}"
    )

    alias = es.alias_name("topic")
    results = {
        "topics": live,
        "queries": len(queries),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "analyzer": client.indices.get_mapping(index=alias).body.popitem()[1]["mappings"]["_meta"],
        "import_seconds": round(import_seconds, 1),
        "bulk_index": {
            "docs": rebuilt.count,
            "seconds": round(rebuilt.seconds, 2),
            "docs_per_s": round(rate),
        },
        "search": roles,
        "reconcile": {
            "clean_seconds": round(clean_seconds, 2),
            "drift": {"missing": drift.missing, "stale": drift.stale, "extra": drift.extra},
            "conflicts": drift.conflicts,
            "drift_fix_seconds": round(drift_seconds, 2),
            "after": {"missing": after.missing, "stale": after.stale, "extra": after.extra},
        },
    }
    out = ROOT / "bench" / "results" / "search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
