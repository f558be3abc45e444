"""Where the time of one `POST /api/shopping/orders/` goes: in-process cost, SQL and Redis counts.

Run: `.venv/bin/python bench/orders_profile.py [--requests 300] [--profile]`. Uses the bench
database of `bench/orders.py` (`stsys_shopping_bench`, MariaDB, re-seeded here: 50 buyers with
2-row orders spread over distinct commodities) and sends the order requests through Django's
full WSGI stack in this process (`django.test.Client`: middleware, DRF, JWT, throttles in
Redis, service, render; no gunicorn/network). Prints mean ms per order (and per bare request),
SQL statements per order (savepoints included) and Redis round trips per order (a pipeline
counts once), and with `--profile` writes a pyinstrument call tree to
`var/bench-orders/profile-order.txt` (pyinstrument is a dev tool, installed in the venv only).
"""

import argparse
import itertools
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import orders

OUT_DIR = orders.ROOT / "var" / "bench-orders"


def main() -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from redis.client import Pipeline
    from redis.connection import Connection

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="write a pyinstrument tree")
    args = parser.parse_args()

    orders.create_database()
    work = orders.seed(50)
    jobs = itertools.cycle(
        [(w["token"], body) for k in range(len(work[0]["bodies"])) for w in work
         for body in [w["bodies"][k]]]
    )  # fmt: skip
    client = Client(HTTP_HOST="127.0.0.1")

    redis_calls = Counter()
    send, execute = Connection.send_command, Pipeline.execute

    def counting_send(self, *a, **kw):
        redis_calls["commands"] += 1
        return send(self, *a, **kw)

    def counting_execute(self, *a, **kw):
        redis_calls["pipelines"] += 1
        return execute(self, *a, **kw)

    Connection.send_command = counting_send
    Pipeline.execute = counting_execute

    def one() -> int:
        token, body = next(jobs)
        response = client.post(
            "/api/shopping/orders/", body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )  # fmt: skip
        return response.status_code

    for _ in range(20):  # warm connections, imports, auth state
        one()
    for _ in range(200):
        client.get("/bench/hello/")
    n = args.requests
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        client.get("/bench/hello/")
    bare_ms = (time.perf_counter() - started) / n * 1000
    bare_cpu_ms = (time.process_time() - cpu) / n * 1000

    redis_calls.clear()
    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        statuses = Counter(one() for _ in range(n))
        order_ms = (time.perf_counter() - started) / n * 1000
        order_cpu_ms = (time.process_time() - cpu) / n * 1000
    # a pipeline's commands travel in one round trip: count it once
    redis_round_trips = redis_calls["commands"] + redis_calls["pipelines"]
    kinds = Counter(q["sql"].split()[0].upper() for q in queries.captured_queries)
    result = {
        "requests": n,
        "order_ms": round(order_ms, 2),
        "order_cpu_ms": round(order_cpu_ms, 2),  # this process only (waits on DB/Redis excluded)
        "bare_ms": round(bare_ms, 3),
        "bare_cpu_ms": round(bare_cpu_ms, 3),
        "sql_per_order": round(len(queries) / n, 2),
        "sql_kinds_per_order": {k: round(v / n, 2) for k, v in sorted(kinds.items())},
        "redis_round_trips_per_order": round(redis_round_trips / n, 2),
        "redis_pipelines_per_order": round(redis_calls["pipelines"] / n, 2),
        "statuses": dict(statuses),
    }
    print(result)
    sample = [q["sql"][:160] for q in queries.captured_queries[-40:]]
    print("last statements:\n  " + "\n  ".join(sample))
    if args.profile:
        from pyinstrument import Profiler

        OUT_DIR.mkdir(parents=True, exist_ok=True)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(n):
            one()
        profiler.stop()
        out = OUT_DIR / "profile-order.txt"
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"profile → {out.relative_to(orders.ROOT)}")
    return result


if __name__ == "__main__":
    main()
