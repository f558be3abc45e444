"""Load harness (issue 7 §3): the project under gunicorn, driven by `wrk`, against a bare Django view.

Run: `.venv/bin/python bench/load.py [--paired | --rounds N] [--only scenario ...] [--duration 10]
[--warmup 2] [--reindex] [--gunicorn .venv/bin/gunicorn] [--out bench/results/load.json]`. One command:

1. **Seed** the bench database `stsys_bench` on MariaDB (127.0.0.1:3306) — idempotent, so a second
   run only resets what load consumes: migrate, `load_areas`, a student, a teacher, 10,000 topics
   of the teacher with options over 10 labels (2 exam labels → 20% hidden from students), the
   search corpus topped up to 50,000 topics by the work app's `import_poetry --limit 40000`
   (chinese-poetry npm package), an article with a thread of 200 comments (10 roots, 190 nested
   replies, all on the first thread page), 250 commodities with stock 10,000,000 and 40 buyers
   (the student + 39 students) with an address and 250 fresh cart rows each (10,000 rows).
   Redis dbs 50–54 (`REDIS_DB_BASE=50`) are flushed; Elasticsearch (`ELASTICSEARCH_INDEX_PREFIX=bench_load_`,
   started with `tests/services/elasticsearch.sh` if down) is loaded with the project's own
   `search_index --rebuild` whenever its document count differs from the live topics (or `--reindex`).
2. **Serve** with gunicorn (`deploy/gunicorn.conf.py`, 4 sync workers, `max_requests` 0 so no
   worker restarts mid-run, access log on) under `bench.settings` with `BENCH_BARE_URLS=1` (the
   project's URLs + `/bench/bare/`), DEBUG=false, a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,
   ALIPAY_SIMULATOR=false, SECURE_SSL_REDIRECT=false, every THROTTLE_* at 100000000/s (see
   `THROTTLE_RATE`) and Celery eager.
3. **Load** each scenario with `wrk` (2 threads, 10 connections; a generated Lua script sets the
   Bearer header, the POST bodies, and reports p50/p95/p99 from wrk's latency histogram):
   `bare`, `area` (province list, cached), `topics_warm` (student topic list page 1, cached),
   `topics_uncached` (same list, every request a cache miss: a distinct `_nc=<n>` query parameter
   — the response-cache key includes every query parameter, so each request computes the page
   (count + page + labels/options) and stores a new entry), `search` (10 clients cycling over 40
   Chinese queries over the 50,000-topic corpus; after the warm-up their bodies come from the
   response cache), `search_uncached` (the same with a distinct `_nc=<n>` per request, so every
   request asks Elasticsearch and the database), `thread` (comments page of the article:
   10 roots + 190 replies) and `order_create` (each request a new order from one fresh cart row:
   rows pre-created at seed time, request i of the run uses entry i of a table of (buyer token,
   body) rows spread over buyers and commodities — a Lua add-to-cart step would put a second
   request inside every measured one). Run only when named in `--only`: `ref_area_stateless` and
   `ref_area_stock`, the province list as issue 7 calibrates its 0.5× target (drf-extensions'
   stock cache, no throttles; simplejwt's stateless check, or its row-loading `JWTAuthentication`;
   see `bench/bare_urls.py`). Each scenario: `--warmup` s, then `--duration` s measured.
4. **Report** req/s, p50, p95, errors, CPU milliseconds per request of each process group (gunicorn,
   Elasticsearch, MariaDB, Redis via psutil; wrk via getrusage) and the ratio to the bare view of
   the same run (with `--paired`: to the mean of bare runs right before and after the scenario;
   with `--rounds N`: bare and the scenarios alternate N times and are pooled); print a table,
   write `bench/results/load.json` (or `--out`), stop gunicorn (and only what it started).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "stsys_bench"
HOST, PORT = "127.0.0.1", 8790
REDIS_DB_BASE = 50
ES_URL = "http://127.0.0.1:9200"
ES_PREFIX = "bench_load_"  # not `bench_`: bench/search.py owns that prefix with another database
THROTTLE_RATE = "100000000/s"  # per second: DRF's history list then holds ≤ 1 s of timestamps
WORKERS = 4
WRK_THREADS = 2
CONNECTIONS = 10
FACTORY_TOPICS = 10_000
POETRY_TOPICS = 40_000  # + FACTORY_TOPICS = the 50,000-topic search corpus
LABELS, EXAM_LABELS = 8, 2
COMMENTS, COMMENT_ROOTS = 200, 10
BUYERS, COMMODITIES = 40, 250
STOCK = 10_000_000
TARGETS = {  # issue 7 §3, 2 cores
    "area": ("ratio", 0.5),
    "topics_warm": ("ratio", 0.5),
    "topics_uncached": ("ratio", 0.12),
    "search": ("p95_ms", 50.0),
    "search_uncached": ("p95_ms", 50.0),  # the same bound with every request a cache miss
}
SEARCH_QUERIES = [
    "明月", "春风", "故乡", "长安", "白云", "江南", "秋风", "落花", "杨柳", "黄河", "天下", "君子",
    "山水", "孤舟", "梅花", "相思", "离别", "少年", "归来", "千里", "东风", "桃花", "夕阳", "青山",
    "流水", "李白", "杜甫", "苏轼", "关关雎鸠", "学而时习之", "床前明月光", "大江东去", "人生",
    "黄昏", "芳草", "烟雨", "寒山", "渔舟", "故人", "天涯",
]  # fmt: skip

SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "BENCH_BARE_URLS": "1",
    "DATABASE_URL": f"mysql://stsys:stsys@127.0.0.1:3306/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379",
    "REDIS_DB_BASE": str(REDIS_DB_BASE),
    "ELASTICSEARCH_URL": ES_URL,
    "ELASTICSEARCH_INDEX_PREFIX": ES_PREFIX,
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),  # random per run; tokens are minted with it
    "ALLOWED_HOSTS": "127.0.0.1",
    "ALIPAY_SIMULATOR": "false",
    "SECURE_SSL_REDIRECT": "false",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "60",
    **{
        f"THROTTLE_{scope}": THROTTLE_RATE
        for scope in (
            "ANON",
            "USER",
            "CAPTCHA",
            "LOGIN",
            "PASSWORD_SET",
            "SEARCH",
            "ORDER_CREATE",
            "ENROL",
        )
    },
    "GUNICORN_BIND": f"{HOST}:{PORT}",
    "GUNICORN_WORKERS": str(WORKERS),
    "GUNICORN_MAX_REQUESTS": "0",
    "GUNICORN_TIMEOUT": "60",
}
os.environ.update(SERVER_ENV)

import django  # noqa: E402

from bench import wrk as wrk_lua  # noqa: E402

django.setup()

WORK_DIR = ROOT / "var" / "bench-load"
LOG_FILE = ROOT / "var" / "log" / "bench-load-gunicorn.log"


def say(message: str) -> None:
    """Progress line on stdout, with the time since start."""
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", flush=True)


STARTED = time.perf_counter()


# --- services -------------------------------------------------------------------------------------


def ensure_services() -> None:
    """MariaDB, Redis and Elasticsearch must answer; Elasticsearch is started if it does not."""
    import MySQLdb
    import redis

    MySQLdb.connect(host="127.0.0.1", user="stsys", passwd="stsys").close()
    redis.Redis(host="127.0.0.1", port=6379).ping()
    if not es_healthy():
        say("Elasticsearch down: bash tests/services/elasticsearch.sh")
        subprocess.run(["bash", "tests/services/elasticsearch.sh"], cwd=ROOT, check=True)


def es_healthy() -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", 9200, timeout=3)
        conn.request("GET", "/_cluster/health")
        return conn.getresponse().status == 200
    except OSError:
        return False


def es_count(index: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", 9200, timeout=10)
    conn.request("GET", f"/{index}/_count")
    response = conn.getresponse()
    body = json.loads(response.read() or b"{}")
    return int(body.get("count", -1)) if response.status == 200 else -1


def flush_redis() -> None:
    """Empty this harness's Redis dbs (cache, captcha, broker, results, area = base + 0..4)."""
    import redis

    for db in range(REDIS_DB_BASE, REDIS_DB_BASE + 5):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


# --- seed -----------------------------------------------------------------------------------------


def create_database() -> None:
    import MySQLdb
    from django.core.management import call_command

    conn = MySQLdb.connect(host="127.0.0.1", user="stsys", passwd="stsys")
    conn.cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    conn.close()
    call_command("migrate", verbosity=0)
    call_command("load_areas", verbosity=0)


def user_with_group(username: str, group: str):
    """Get or create an active user in `group` (password unusable: tokens are minted directly)."""
    from django.contrib.auth.models import Group

    from apps.users.models import User

    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def seed_topics(teacher) -> dict:
    """FACTORY_TOPICS topics of `teacher` over LABELS + EXAM_LABELS labels, with options.

    Types cycle 0–4 (single/multiple choice get 4 options). Subjects are Chinese phrases drawn
    from the search queries and a fixed character set, so they are also search hits.
    """
    import random

    from django.db import transaction

    from apps.work.models import Label, Topic, TopicOption

    names = [(f"压测标签{i}", False) for i in range(LABELS)]
    names += [(f"压测考试{i}", True) for i in range(EXAM_LABELS)]
    labels = [
        Label.objects.get_or_create(name=name, defaults={"user": teacher, "is_exam": exam})[0]
        for name, exam in names
    ]
    have = Topic.objects.filter(user=teacher, is_delete=False).count()
    if have == FACTORY_TOPICS:
        return {"factory_topics": have, "created": 0}
    Topic.objects.filter(user=teacher).delete()  # options cascade
    rng = random.Random(7)
    chars = (
        "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水"
    )
    answers = {0: "B", 1: "AC", 2: "true", 3: json.dumps(["答案"]), 4: "参考答案"}
    batch = 1000
    for start in range(0, FACTORY_TOPICS, batch):
        topics = []
        for n in range(start, start + batch):
            words = rng.sample(SEARCH_QUERIES, 2)
            filler = "".join(rng.choice(chars) for _ in range(12))
            topics.append(
                Topic(
                    subject=f"第{n}题：{words[0]}{filler}{words[1]}？",
                    type=n % 5,
                    score=2.0,
                    description=f"说明{n}：{''.join(rng.choice(chars) for _ in range(20))}",
                    answer=answers[n % 5],
                    label=labels[n % len(labels)],
                    user=teacher,
                )
            )
        with transaction.atomic():
            topics = Topic.objects.bulk_create(topics)
            options = []
            for topic in topics:
                if topic.type in (0, 1):
                    correct = {"B"} if topic.type == 0 else {"A", "C"}
                    options += [
                        TopicOption(topic=topic, key=k, text=f"选项{k}{rng.choice(chars)}",
                                    is_correct=k in correct)
                        for k in "ABCD"
                    ]  # fmt: skip
            TopicOption.objects.bulk_create(options)
    return {"factory_topics": FACTORY_TOPICS, "created": FACTORY_TOPICS}


def seed_article(teacher, student):
    """The bench article with COMMENTS comments: COMMENT_ROOTS roots, the rest nested replies."""
    from apps.community import services as community
    from apps.community.models import MAX_COMMENT_DEPTH, Article, Comment

    article = Article.objects.filter(title="压测文章", user=teacher, is_delete=False).first()
    if article and Comment.objects.filter(article=article, is_delete=False).count() == COMMENTS:
        return article
    if article is None:
        article = community.article_create(
            user=teacher, title="压测文章", content="# 压测\n\n一篇有 **200** 条评论的文章。"
        )
    Comment.objects.filter(article=article).delete()
    users = [teacher, student]
    Comment.objects.bulk_create(
        Comment(article=article, user=users[i % 2], content=f"顶层评论 {i}")
        for i in range(COMMENT_ROOTS)
    )
    roots = list(Comment.objects.filter(article=article, parent_comment__isnull=True))
    parents = list(roots)
    for i in range(COMMENTS - COMMENT_ROOTS):
        parent = parents[i % len(parents)]
        if parent.depth >= MAX_COMMENT_DEPTH:
            parent = roots[i % COMMENT_ROOTS]
        parents.append(
            Comment.objects.create(
                article=article, user=users[i % 2], content=f"回复 {i}", parent_comment=parent,
                root_id=parent.root_id or parent.pk, depth=parent.depth + 1,
            )
        )  # fmt: skip
    return article


def seed_shop(student) -> list[dict]:
    """Commodities, buyers with an address, and fresh cart rows; returns the order work table.

    Old bench orders are deleted and every buyer gets one cart row per commodity (number 1).
    Entry j: buyer j % BUYERS, that buyer's cart row of commodity (7·u + j // BUYERS) mod
    COMMODITIES — consecutive requests hit different buyers and different commodity rows.
    """
    from decimal import Decimal

    from django.db import transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.shopping.models import Commodity, Order, ShoppingCart
    from apps.users.models import Address, Area

    buyers = [student] + [user_with_group(f"bench_buyer{i}", "student") for i in range(1, BUYERS)]
    commodities = list(Commodity.objects.filter(name__startswith="压测商品").order_by("id"))
    if len(commodities) != COMMODITIES:
        Commodity.objects.filter(name__startswith="压测商品").delete()
        commodities = Commodity.objects.bulk_create(
            Commodity(name=f"压测商品{i}", price=Decimal("9.90"), stock=STOCK)
            for i in range(COMMODITIES)
        )
    district = Area.objects.filter(parent__parent__isnull=False).select_related("parent").first()
    city, province = district.parent, Area.objects.get(pk=district.parent.parent_id)
    with transaction.atomic():
        Order.objects.filter(user__in=buyers).delete()  # goods cascade
        Commodity.objects.filter(pk__in=[c.pk for c in commodities]).update(stock=STOCK, sales=0)
        ShoppingCart.objects.filter(user__in=buyers).delete()
        addresses = []
        for user in buyers:
            address = Address.objects.filter(user=user, is_delete=False).first()
            if address is None:
                address = Address.objects.create(
                    user=user, receiver="压测", province=province, city=city, district=district,
                    place="压测路1号", mobile="13800000000", is_default=True,
                )  # fmt: skip
            addresses.append(address)
        ShoppingCart.objects.bulk_create(
            ShoppingCart(user=u, commodity=c, number=1) for u in buyers for c in commodities
        )
    rows = dict(
        ((user_id, commodity_id), pk)
        for pk, user_id, commodity_id in ShoppingCart.objects.filter(user__in=buyers).values_list(
            "id", "user_id", "commodity_id"
        )
    )
    tokens = [str(AccessToken.for_user(u)) for u in buyers]
    work = []
    for j in range(BUYERS * COMMODITIES):
        u, k = j % BUYERS, j // BUYERS
        commodity = commodities[(7 * u + k) % COMMODITIES]
        body = {
            "address": addresses[u].pk,
            "pay_method": 1,
            "cart": [rows[(buyers[u].pk, commodity.pk)]],
        }
        work.append({"token": tokens[u], "body": json.dumps(body)})
    return work


def seed(reindex: bool) -> dict:
    """Everything the scenarios read or consume (see the module docstring); returns ids/counts."""
    from django.core.management import call_command

    from apps.work.models import Topic

    began = time.perf_counter()
    create_database()
    student = user_with_group("bench_student", "student")
    teacher = user_with_group("bench_teacher", "teacher")
    info = seed_topics(teacher)
    say(f"factory topics: {info}")
    t0 = time.perf_counter()
    call_command("import_poetry", limit=POETRY_TOPICS, no_index=True, no_progress=True)
    info["poetry_seconds"] = round(time.perf_counter() - t0, 1)
    live = Topic.objects.filter(is_delete=False).count()
    indexed = es_count(f"{ES_PREFIX}topic")
    info.update({"live_topics": live, "indexed_before": indexed})
    if reindex or indexed != live:
        say(f"search_index --rebuild ({live} live topics, {indexed} documents)")
        t0 = time.perf_counter()
        call_command("search_index", rebuild=True, no_progress=True)
        info["rebuild_seconds"] = round(time.perf_counter() - t0, 1)
    info["indexed"] = es_count(f"{ES_PREFIX}topic")
    info["student_visible_topics"] = Topic.objects.filter(
        is_delete=False, label__is_exam=False
    ).count()
    article = seed_article(teacher, student)
    info["article"] = article.pk
    flush_redis()
    info["orders_work"] = seed_shop(student)
    from rest_framework_simplejwt.tokens import AccessToken

    info["student_token"] = str(AccessToken.for_user(student))
    info["seed_seconds"] = round(time.perf_counter() - began, 1)
    from django.db import connection

    connection.close()
    return info


# --- server ---------------------------------------------------------------------------------------


_SERVER: dict = {}  # {"pid": gunicorn master pid} while a server runs (CPU accounting)
GUNICORN = {"path": ROOT / ".venv" / "bin" / "gunicorn"}  # `--gunicorn` (bench/interpreter.py)


def server_python(gunicorn: Path) -> dict:
    """The interpreter the gunicorn script runs on (its shebang): path, version, build flags."""
    python = gunicorn.read_text().splitlines()[0].removeprefix("#!").strip()
    code = ("import json, platform, sys, sysconfig; print(json.dumps({'executable': sys.executable, "
            "'version': platform.python_version(), 'config_args': sysconfig.get_config_var('CONFIG_ARGS')}))")  # fmt: skip
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def start_server() -> subprocess.Popen:
    """gunicorn with the deploy config, in its own session (stopped by process group)."""
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    log = open(LOG_FILE, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(GUNICORN["path"]), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=ROOT, env={**os.environ, **SERVER_ENV}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    _SERVER["pid"] = proc.pid
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {LOG_FILE}")
        try:
            status, _ = http_get("/bench/bare/")
            if status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise SystemExit(f"gunicorn did not start; see {LOG_FILE}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def http_get(path: str, token: str | None = None, method: str = "GET", body: str | None = None):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=body.encode() if body else None, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, json.loads(payload) if payload else None


# --- scenarios --------------------------------------------------------------------------------------


def scenarios(info: dict) -> list[dict]:
    """Name, wrk request table, mode and concurrency of each scenario, in run order."""
    auth = {"Authorization": f"Bearer {info['student_token']}"}
    topics = "/api/work/topics/?page=1&size=10"
    searches = [
        {"path": "/api/topics/search/?" + urllib.parse.urlencode({"text": q, "limit": 10}),
         "headers": auth}
        for q in SEARCH_QUERIES
    ]  # fmt: skip
    orders = [
        {"method": "POST", "path": "/api/shopping/orders/", "body": w["body"],
         "headers": {"Authorization": f"Bearer {w['token']}", "Content-Type": "application/json"}}
        for w in info["orders_work"]
    ]  # fmt: skip
    return [
        {"name": "bare", "requests": [{"path": "/bench/bare/", "headers": {}}]},
        {"name": "area", "requests": [{"path": "/api/users/area/", "headers": auth}]},
        {"name": "topics_warm", "requests": [{"path": topics, "headers": auth}]},
        {"name": "topics_uncached", "requests": [{"path": topics, "headers": auth}],
         "unique": True},
        {"name": "search", "requests": searches},
        {"name": "search_uncached", "requests": searches, "unique": True},
        {"name": "thread", "requests": [
            {"path": f"/api/community/comments/?article={info['article']}", "headers": auth}]},
        {"name": "order_create", "requests": orders, "once": True},
        # issue 7's calibration of its 0.5× target (bench/bare_urls.py); only run when named
        {"name": "ref_area_stateless", "reference": True,
         "requests": [{"path": "/bench/reference/area/stateless/", "headers": auth}]},
        {"name": "ref_area_stock", "reference": True,
         "requests": [{"path": "/bench/reference/area/stock/", "headers": auth}]},
    ]  # fmt: skip


def require(condition: bool, detail: object) -> None:
    """Stop the run when a check request's answer is not what the scenario claims."""
    if not condition:
        raise SystemExit(f"check failed: {str(detail)[:500]}")


def check(scenario: dict, info: dict) -> dict:
    """One request per scenario before loading it: status and the shape the scenario claims."""
    # order_create checks with the table's last entry, which the load runs never reach
    first = scenario["requests"][-1 if scenario.get("once") else 0]
    token = first["headers"].get("Authorization", "").removeprefix("Bearer ") or None
    path = first["path"] + ("&_nc=check" if scenario.get("unique") else "")
    status, body = http_get(path, token, first.get("method", "GET"), first.get("body"))
    name, facts = scenario["name"], {"status": status}
    expected = 201 if scenario.get("once") else 200
    if status != expected:
        raise SystemExit(f"{name}: check request answered {status}: {str(body)[:300]}")
    if name.startswith("topics"):
        facts["count"] = body["count"]
        require(
            body["count"] == info["student_visible_topics"],
            (body["count"], info["student_visible_topics"]),
        )
        require(all("answer" not in t for t in body["results"]), "student view leaked answers")
    elif name.startswith("search"):
        facts["count"] = body["count"]
        require(body["count"] > 0, body)
        require(bool(body["results"]), body)
    elif name == "area" or name.startswith("ref_area"):
        facts["provinces"] = len(body)
        require(len(body) >= 30, body)
    elif name == "thread":

        def size(nodes: list) -> int:
            return sum(1 + size(n["sonComments"]) for n in nodes)

        facts["comments_on_page"] = size(body["results"])
        require(facts["comments_on_page"] == COMMENTS, facts)
    elif name == "order_create":
        facts["total_amount"] = body["total_amount"]
    return facts


LUA = r"""
-- generated by bench/load.py: request table, per-thread interleaving, JSON summary
local unique = %(unique)s
function init(args)
  first = tonumber(args[1]) or 0
  stride = tonumber(args[2]) or 1
  tag = args[3] or "r"
  n = 0
end
function request()
  local i, r = next_request()
  local path = r[2]
  if unique then path = path .. "&_nc=" .. tag .. "-" .. i end
  return wrk.format(r[1], path, r[3], r[4])
end
function done(summary, latency, requests)
  local last = last_index()
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,' ..
    '"mean_us":%%.1f,"max_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"next_index":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    last))
end
"""


def write_lua(scenario: dict) -> Path:
    script = (wrk_lua.WALK_LUA + LUA) % {
        "table": wrk_lua.lua_request_table(scenario["requests"]),
        "unique": "true" if scenario.get("unique") else "false",
    }
    path = WORK_DIR / f"{scenario['name']}.lua"
    path.write_text(script)
    return path


def wrk(script: Path, seconds: float, first: int, tag: str) -> dict:
    """One wrk run; returns the JSON summary written by the script's `done()`."""
    return wrk_lua.run(
        script,
        url=f"http://{HOST}:{PORT}",
        seconds=seconds,
        threads=WRK_THREADS,
        connections=CONNECTIONS,
        script_args=(first, WRK_THREADS, tag),
    )


_RUNS = itertools.count(1)  # numbers the wrk runs of this process: `_nc` tags never repeat


def run(scenario: dict, warmup: float, duration: float) -> dict:
    script = write_lua(scenario)
    number = next(_RUNS)  # a "unique" scenario's `_nc=<tag>-<i>` must differ between runs
    warm = wrk(script, warmup, 0, f"w{number}")
    first = warm["next_index"] if scenario.get("once") else 0
    cpu_before = wrk_lua.cpu_seconds(_SERVER.get("pid"))
    raw = wrk(script, duration, first, f"m{number}")
    cpu_after = wrk_lua.cpu_seconds(_SERVER.get("pid"))
    if scenario.get("once") and raw["next_index"] > len(scenario["requests"]) - 1:
        raise SystemExit(f"{scenario['name']}: ran out of pre-created cart rows")
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "req_per_s": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": errors,
        "error_detail": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
        "warmup_requests": warm["requests"],
        # where the machine's 2 cores went during the measured run, per request (all processes
        # of each group; the machine is shared, so other work does not show here)
        "cpu_ms_per_request": wrk_lua.cpu_ms_per_request(cpu_before, cpu_after, raw["requests"]),
    }


# --- main -------------------------------------------------------------------------------------------


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per scenario"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per scenario")
    parser.add_argument("--reindex", action="store_true", help="always run search_index --rebuild")
    parser.add_argument("--only", nargs="*", help="run only these scenarios (bare always runs)")
    parser.add_argument(
        "--paired",
        action="store_true",
        help="re-measure bare right before and after each scenario and use their mean for its "
        "ratio (a shared machine's load drifts between scenarios)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure bare and the scenarios in this many alternating rounds (bare, a, b, bare, "
        "a, b, ...) of --duration each and pool them: machine drift then hits every scenario "
        "alike. Throughput and ratios are pooled; p50 is the rounds' median, p95 the highest",
    )
    parser.add_argument(
        "--gunicorn",
        default=str(GUNICORN["path"]),
        help="gunicorn executable to serve with (its venv's interpreter runs the project)",
    )
    parser.add_argument(
        "--out",
        default="bench/results/load.json",
        help="results file, relative to the repository root",
    )
    args = parser.parse_args()
    GUNICORN["path"] = Path(args.gunicorn).resolve()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    ensure_services()
    say("seeding stsys_bench")
    info = seed(args.reindex)
    say(f"seeded in {info['seed_seconds']}s: {info['live_topics']} live topics, "
        f"{info['indexed']} indexed, {len(info['orders_work'])} cart rows")  # fmt: skip
    results: dict = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "server_python": server_python(GUNICORN["path"]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "setup": {"workers": WORKERS, "wrk_threads": WRK_THREADS, "connections": CONNECTIONS,
                  "warmup_s": args.warmup, "duration_s": args.duration,
                  "throttle_rate": THROTTLE_RATE, "database": f"MariaDB {DB_NAME}",
                  "paired_bare": args.paired, "rounds": args.rounds,
                  "search_corpus": f"{FACTORY_TOPICS} factory + {POETRY_TOPICS} import_poetry"},
        "seed": {k: v for k, v in info.items() if k not in ("orders_work", "student_token")},
        "scenarios": {},
    }  # fmt: skip
    results["loadavg_1m_before"] = round(os.getloadavg()[0], 2)
    server = start_server()
    say(f"gunicorn up (pid {server.pid}, {WORKERS} sync workers) on {HOST}:{PORT}")
    try:
        if args.rounds > 1:
            run_rounds(info, args, results)
        for scenario in scenarios(info) if args.rounds <= 1 else ():
            name = scenario["name"]
            if args.only and name != "bare" and name not in args.only:
                continue
            if scenario.get("reference") and name not in (args.only or ()):
                continue
            facts = check(scenario, info)
            paired = args.paired and name != "bare"
            if paired:
                before = run(scenarios(info)[0], args.warmup, args.duration)["req_per_s"]
            result = run(scenario, args.warmup, args.duration)
            if paired:
                after = run(scenarios(info)[0], args.warmup, args.duration)["req_per_s"]
                result["bare_before_after_req_per_s"] = [before, after]
                result["bare_adjacent_req_per_s"] = round((before + after) / 2, 1)
            result["check"] = facts
            result["loadavg_1m_after"] = round(os.getloadavg()[0], 2)  # shared machine: context
            results["scenarios"][name] = result
            say(f"{name:>16}: {result['req_per_s']:8.1f} req/s  p50 {result['p50_ms']:7.2f} ms  "
                f"p95 {result['p95_ms']:7.2f} ms  errors {result['errors']}  "
                f"CPU ms/request {result['cpu_ms_per_request']}")  # fmt: skip
    finally:
        stop_server(server)
        say("gunicorn stopped")
    bare = results["scenarios"]["bare"]["req_per_s"]
    for name, result in results["scenarios"].items():
        reference = result.get("bare_adjacent_req_per_s", bare)
        result["ratio_to_bare"] = round(result["req_per_s"] / reference, 3)
        if "rounds" in result:
            bare_rounds = results["scenarios"]["bare"]["rounds"]
            result["ratio_per_round"] = [
                round(mine["req_per_s"] / theirs["req_per_s"], 3)
                for mine, theirs in zip(result["rounds"], bare_rounds, strict=True)
            ]
        if name in TARGETS:
            kind, bound = TARGETS[name]
            value = result["ratio_to_bare"] if kind == "ratio" else result["p95_ms"]
            met = value >= bound if kind == "ratio" else value <= bound
            result["target"] = {"kind": kind, "bound": bound, "met": met}
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    print(f"wrote {out.relative_to(ROOT)}; total {time.perf_counter() - STARTED:.0f}s")
    return results


def run_rounds(info: dict, args: argparse.Namespace, results: dict) -> None:
    """`--rounds N`: every selected scenario (bare first) once per round, N rounds; results pooled
    into `results["scenarios"]` with each round kept under `"rounds"`."""
    selected = [s for s in scenarios(info)
                if s["name"] == "bare" or s["name"] in (args.only or ())
                or not (args.only or s.get("reference"))]  # fmt: skip
    if any(s.get("once") for s in selected):
        raise SystemExit(
            "--rounds: order_create uses each cart row once; measure it without --rounds"
        )
    facts = {s["name"]: check(s, info) for s in selected}
    per_round: dict[str, list[dict]] = {s["name"]: [] for s in selected}
    for number in range(1, args.rounds + 1):
        for scenario in selected:
            result = run(scenario, args.warmup, args.duration)
            per_round[scenario["name"]].append(result)
            say(f"round {number}: {scenario['name']:>14}: {result['req_per_s']:8.1f} req/s  "
                f"p95 {result['p95_ms']:7.2f} ms  CPU ms/request "
                f"{result['cpu_ms_per_request']['total']}")  # fmt: skip
    for name, rounds in per_round.items():
        requests = sum(r["requests"] for r in rounds)
        seconds = sum(r["seconds"] for r in rounds)
        groups = {g for r in rounds for g in r["cpu_ms_per_request"]}
        results["scenarios"][name] = {
            "requests": requests,
            "seconds": round(seconds, 2),
            "req_per_s": round(requests / seconds, 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 2),
            "p95_ms": max(r["p95_ms"] for r in rounds),
            "latency": "p50: median of the rounds' p50; p95: the highest round p95",
            "errors": sum(r["errors"] for r in rounds),
            "cpu_ms_per_request": {
                g: round(
                    sum(r["cpu_ms_per_request"].get(g, 0.0) * r["requests"] for r in rounds)
                    / requests,
                    2,
                )
                for g in sorted(groups)
            },
            "rounds": [{k: r[k] for k in ("req_per_s", "p50_ms", "p95_ms")} for r in rounds],
            "check": facts[name],
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
        }


def table(results: dict) -> str:
    """Markdown table of the scenarios (also pasted into README.md's Benchmarks section)."""
    lines = ["| scenario | req/s | p50 ms | p95 ms | × bare | errors | target |",
             "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for name, r in results["scenarios"].items():
        target = ""
        if "target" in r:
            t = r["target"]
            rule = f"≥ {t['bound']}× bare" if t["kind"] == "ratio" else f"p95 ≤ {t['bound']:g} ms"
            target = f"{rule}: {'met' if t['met'] else 'MISSED'}"
        lines.append(f"| {name} | {r['req_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                     f"{r['ratio_to_bare']:.2f} | {r['errors']} | {target} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
