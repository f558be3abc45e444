"""Where the time of a `bench/load.py` scenario goes: in-process profile of one request type.

Run after `bench/load.py` has seeded `stsys_bench` (same settings, same env):
`.venv/bin/python bench/load_profile.py [scenario ...] [--requests 300]`. For each scenario it
sends the requests through Django's full WSGI stack in this process (`django.test.Client`:
middleware, DRF, auth, throttles, caches; no gunicorn/network), prints the mean in-process
milliseconds per request, SQL queries and Redis commands per request, and writes a pyinstrument
call tree to `var/bench-load/profile-<scenario>.txt` (pyinstrument is a dev tool; install it in
the venv only). With `--cpu-parts` it profiles nothing and instead prints the CPU microseconds per
request spent inside each of `CPU_PARTS` (process CPU time around the real functions: no sampling,
no waiting counted; a part nested in another is counted in both). Scenarios: bare, area, topics_warm, topics_uncached, search, search_uncached, thread
(`*_uncached`: a distinct `_nc` per request, as in bench/load.py), and the references
ref_area_stateless, ref_area_stock (bench/bare_urls.py).
"""

import argparse
import contextlib
import functools
import importlib
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load  # (sets the bench environment and calls django.setup())


def paths(article: int) -> dict[str, list[str]]:
    topics = "/api/work/topics/?page=1&size=10"
    search = [f"/api/topics/search/?text={q}&limit=10" for q in load.SEARCH_QUERIES]
    return {
        "bare": ["/bench/bare/"],
        "area": ["/api/users/area/"],
        "topics_warm": [topics],
        "topics_uncached": [topics],
        "search": search,
        "search_uncached": search,
        "thread": [f"/api/community/comments/?article={article}"],
        "ref_area_stateless": ["/bench/reference/area/stateless/"],
        "ref_area_stock": ["/bench/reference/area/stock/"],
    }


PARTS = {  # label: function names whose (outermost) frames are summed
    "JWT decode+verify": ("JWTAuthentication.get_validated_token",),
    "auth state (Redis)": ("JWTAuthentication.get_user",),
    "throttles (Redis get+set)": ("check_throttles",),
    "response cache lookup": ("CacheResponse.process_cache_response", "_cached"),
    "SQL (cursor execute)": ("CursorWrapper.execute", "CursorDebugWrapper.execute"),
    "Elasticsearch": ("Elasticsearch.search", "Elasticsearch.count"),
    "serializers (to_representation)": ("ListSerializer.to_representation",),
    "render JSON": ("JSONRenderer.render",),
    "whole request": ("Client.get",),
}


# label: (module, attribute path) of a function or method whose CPU time `--cpu-parts` sums
CPU_PARTS: dict[str, tuple[str, str]] = {
    "whole (Django handler)": ("django.test.client", "ClientHandler.__call__"),
    "URL resolution": ("django.core.handlers.base", "BaseHandler.resolve_request"),
    "DRF dispatch": ("rest_framework.views", "APIView.dispatch"),
    "Redis round trip (auth state)": ("utils.cache", "get_many_and_count"),
    "  of it: redis-py script call": ("redis.commands.core", "Script.__call__"),
    "  of it: django-redis decode": ("django_redis.client.default", "DefaultClient.decode"),
    "user from state": ("apps.users.authentication", "user_from_state"),
    "JWT (verified-token LRU)": (
        "apps.users.authentication",
        "JWTAuthentication.get_validated_token",
    ),
    "throttle planning": ("utils.throttling", "counters_for"),
    "check_throttles": ("rest_framework.views", "APIView.check_throttles"),
    "check_permissions": ("rest_framework.views", "APIView.check_permissions"),
    "content negotiation": ("rest_framework.views", "APIView.perform_content_negotiation"),
    "initialize_request": ("rest_framework.views", "APIView.initialize_request"),
    "response-cache key": (
        "rest_framework_extensions.cache.decorators",
        "CacheResponse.calculate_key",
    ),
    "response-cache get": ("utils.cache", "LocalFirstCache.get"),
    "response-cache set": ("utils.cache", "LocalFirstCache.set"),
    "query-param serializer": ("rest_framework.serializers", "Serializer.is_valid"),
    "Elasticsearch (client side)": ("utils.search", "search_ids"),
    "topic rows (SQL)": ("apps.work.selectors", "topic_rows_by_ids"),
    "topic rows rendering": ("apps.work.views", "render_topic_rows"),
    "page links": ("apps.work.views", "TopicViewSet._page_link"),
    "JSON render": ("rest_framework.response", "Response.render"),
}


@contextlib.contextmanager
def cpu_accounting() -> Iterator[dict[str, int]]:
    """Wrap every `CPU_PARTS` function (restored on exit) to add its process CPU nanoseconds to
    the yielded `{label: ns}` (recursive calls counted once, at the outermost call)."""
    totals = dict.fromkeys(CPU_PARTS, 0)
    restore = []
    for label, (module_name, path) in CPU_PARTS.items():
        owner = importlib.import_module(module_name)
        *outer, attr = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = owner.__dict__[attr] if attr in vars(owner) else getattr(owner, attr)
        restore.append((owner, attr, original, attr in vars(owner)))
        setattr(owner, attr, _timed(original, label, totals))
    try:
        yield totals
    finally:
        for owner, attr, original, own in reversed(restore):
            if own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)


def _timed(function: Callable, label: str, totals: dict[str, int]) -> Callable:
    depth = [0]

    @functools.wraps(function)
    def timed(*args, **kwargs):
        if depth[0]:
            return function(*args, **kwargs)
        depth[0] += 1
        began = time.process_time_ns()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.process_time_ns() - began
            depth[0] -= 1

    return timed


def cpu_parts(name: str, requests: int) -> None:
    """Print the CPU µs per request of scenario `name` inside each `CPU_PARTS` function."""
    one = requester(name)
    for _ in range(20):  # warm caches, connections, imports
        one()
    with cpu_accounting() as totals:
        statuses = {one() for _ in range(requests)}
    print(f"{name}: CPU µs per request over {requests} requests (statuses {sorted(statuses)})")
    for label, ns in totals.items():
        if ns:
            print(f"  {label:<32} {ns / requests / 1000:8.1f}")


def breakdown(root) -> dict[str, float]:
    """Seconds spent under each PARTS entry (outermost matching frames only)."""
    totals = dict.fromkeys(PARTS, 0.0)

    def walk(frame, inside: frozenset) -> None:
        name = frame.function or ""
        qual = f"{frame.class_name}.{name}" if getattr(frame, "class_name", None) else name
        now = set(inside)
        for label, names in PARTS.items():
            if label not in inside and (qual in names or name in names):
                totals[label] += frame.time
                now.add(label)
        for child in frame.children:
            walk(child, frozenset(now))

    walk(root, frozenset())
    return totals


def requester(name: str, tag: str = "p") -> Callable[[], int]:
    """A function sending the next request of scenario `name` as the bench student through
    Django's full WSGI stack (`django.test.Client`) and returning its status; `*_uncached`
    requests get a distinct `_nc=<tag><ns>-<n>` (as in bench/load.py). Shared with
    bench/instructions.py."""
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.community.models import Article
    from apps.users.models import User

    student = User.objects.get(username="bench_student")
    article = Article.objects.get(title="压测文章", is_delete=False).pk
    client = Client(
        HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(student)}"
    )
    cycle, counter = itertools.cycle(paths(article)[name]), itertools.count()

    def one() -> int:
        path = next(cycle)
        if name.endswith("_uncached"):
            path += f"&_nc={tag}{time.time_ns()}-{next(counter)}"
        return client.get(path).status_code

    return one


def main() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler
    from redis.connection import Connection

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=["area", "topics_warm", "topics_uncached",
                                                          "search", "thread", "bare"])  # fmt: skip
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cpu-parts", action="store_true", help="CPU µs per part (CPU_PARTS)")
    args = parser.parse_args()
    if args.cpu_parts:
        for name in args.scenarios:
            cpu_parts(name, args.requests)
        return

    commands = {"n": 0}
    original = Connection.send_command

    def counting(self, *a, **kw):
        commands["n"] += 1
        return original(self, *a, **kw)

    Connection.send_command = counting
    load.WORK_DIR.mkdir(parents=True, exist_ok=True)
    for name in args.scenarios:
        one = requester(name)

        for _ in range(20):  # warm caches, connections, imports
            one()
        commands["n"] = 0
        with CaptureQueriesContext(connection) as queries:
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            profiler.start()
            statuses = {one() for _ in range(args.requests)}
            profiler.stop()
            elapsed = time.perf_counter() - started
        parts = breakdown(profiler.last_session.root_frame())
        whole = parts.pop("whole request") or 1e-9
        share = ", ".join(f"{k} {v / whole:.0%}" for k, v in parts.items() if v / whole >= 0.02)
        out = load.WORK_DIR / f"profile-{name}.txt"
        tree = profiler.output_text(unicode=True, color=False, show_all=True)
        flat = profiler.output_text(unicode=True, color=False, flat=True)
        out.write_text(f"{flat}\n\n{tree}")
        print(f"{name:>16}: {elapsed / args.requests * 1000:7.2f} ms/request (profiled)  "
              f"SQL {len(queries) / args.requests:5.1f}/req  Redis {commands['n'] / args.requests:4.1f}/req  "
              f"statuses {sorted(statuses)}  → {out.relative_to(load.ROOT)}\n{'':>18}{share}")  # fmt: skip


if __name__ == "__main__":
    main()
