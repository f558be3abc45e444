"""Benchmark of order creation under load (API.md §2.6), against gunicorn on MariaDB + Redis.

Run: `.venv/bin/python bench/orders.py [--duration S] [--clients N]`. It creates the bench
database `stsys_shopping_bench` (MariaDB on 127.0.0.1:3306, user stsys), starts gunicorn
(4 sync workers, `bench/orders_settings.py`: project settings + bench URLconf) and drives it with
a Python load generator (2 processes × threads, one keep-alive `http.client` connection per
client, 50 clients) for:

- `bare`: `GET /bench/hello/`, a bare Django JSON view (the ceiling);
- `order`: the full `POST /api/shopping/orders/` (JWT, throttles in Redis, validation of address
  and 2 cart rows, conditional stock UPDATEs, Order + goods, snapshot, cart cleanup);
- `seed`: the seed's optimistic `while True` loop (bounded at 5 s → `stalled`) — under READ
  COMMITTED and REPEATABLE READ (server restarted with that isolation level);
- `race`: 200 concurrent buyers over HTTP for one commodity with stock 50.

Every client buys the same two commodities at the same step (hot rows, stock 30 each for 50
clients), so orders contend and some answer 409. After each run the stock books are checked:
stock + sales = initial, sales = Σ order goods, never oversold. Prints a table and writes
`bench/results/orders.json`.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "stsys_shopping_bench"
PORT = 8765
HOST = "127.0.0.1"
COMMODITIES = 600  # each client holds one cart row per commodity; an order takes 2
STOCK_HOT = 30  # < clients: every hot pair sells out and later buyers get 409
STOCK_SPREAD = 1000
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.orders_settings",
    "DATABASE_URL": f"mysql://stsys:stsys@127.0.0.1:3306/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379",
    "REDIS_DB_BASE": "30",
    "CACHE_PREFIX": "stsys-bench",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "ALIPAY_SIMULATOR": "false",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "THROTTLE_USER": "100000000/min",
    "THROTTLE_ORDER_CREATE": "100000000/min",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "60",
}
os.environ.update(SERVER_ENV)

import django  # noqa: E402

django.setup()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# --- database preparation --------------------------------------------------------------------------


def create_database() -> None:
    import MySQLdb

    conn = MySQLdb.connect(host="127.0.0.1", user="stsys", passwd="stsys")
    conn.cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    conn.close()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(clients: int, *, hot: bool = False) -> list[dict]:
    """Fresh users/addresses/commodities/cart rows; returns per-client work (token, bodies).

    `hot`: every client's k-th order takes the same commodity pair (2k, 2k+1), stock 30 each
    (< clients), so orders queue on the same rows and some answer 409. Otherwise client u's
    k-th order takes pair (u + k) mod 300 — spread over distinct rows, stock 1000 each.
    """
    from decimal import Decimal

    from django.db import connection, transaction
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.shopping.models import Commodity, ShoppingCart
    from apps.users.models import Address, Area, User

    with connection.cursor() as cur:
        for table in ("payment", "order_goods", "orders", "shopping_cart", "address", "commodity"):
            cur.execute(f"DELETE FROM {table}")
    User.objects.filter(username__startswith="bench").delete()
    with transaction.atomic():
        province, _ = Area.objects.get_or_create(id=99_000_001, defaults={"name": "基准省"})
        city, _ = Area.objects.get_or_create(
            id=99_000_101, defaults={"name": "基准市", "parent": province}
        )
        district, _ = Area.objects.get_or_create(
            id=99_000_201, defaults={"name": "基准区", "parent": city}
        )
        users = User.objects.bulk_create(
            User(username=f"bench{i}", password="!", email=f"bench{i}@example.com")
            for i in range(clients)
        )
        addresses = Address.objects.bulk_create(
            Address(user=u, receiver="压测", province=province, city=city, district=district,
                    place="压测路1号", mobile="13800000000", is_default=True)
            for u in users
        )  # fmt: skip
        commodities = Commodity.objects.bulk_create(
            Commodity(name=f"压测商品{i}", price=Decimal("9.90"), stock=stock_each(hot))
            for i in range(COMMODITIES)
        )
        rows = ShoppingCart.objects.bulk_create(
            ShoppingCart(user=u, commodity=c, number=1) for u in users for c in commodities
        )
    if rows[0].pk is None:
        rows = list(ShoppingCart.objects.order_by("user_id", "commodity_id"))
    by_key = {(r.user_id, r.commodity_id): r.pk for r in rows}
    pairs = COMMODITIES // 2
    work = []
    for u, (user, address) in enumerate(zip(users, addresses, strict=True)):
        token = str(RefreshToken.for_user(user).access_token)
        bodies = []
        for k in range(pairs):
            p = k if hot else (u + k) % pairs
            first, second = commodities[2 * p].pk, commodities[2 * p + 1].pk
            cart = [by_key[(user.pk, first)], by_key[(user.pk, second)]]
            bodies.append(json.dumps({"address": address.pk, "pay_method": 1, "cart": cart}))
        work.append({"token": token, "bodies": bodies})
    return work


def stock_each(hot: bool) -> int:
    """Initial stock of every bench commodity."""
    return STOCK_HOT if hot else STOCK_SPREAD


def books(hot: bool) -> dict:
    """Stock books after a run: consistency and oversell counts."""
    from django.db.models import Sum

    from apps.shopping.models import Commodity, Order, OrderGoods

    sold = dict(
        OrderGoods.objects.values("commodity_id")
        .annotate(n=Sum("number"))
        .values_list("commodity_id", "n")
    )
    inconsistent = oversold = 0
    for cid, stock, sales in Commodity.objects.values_list("id", "stock", "sales"):
        if stock + sales != stock_each(hot) or sales != sold.get(cid, 0):
            inconsistent += 1
        if sold.get(cid, 0) > stock_each(hot):
            oversold += 1
    return {"orders": Order.objects.count(), "inconsistent_commodities": inconsistent,
            "oversold_commodities": oversold}  # fmt: skip


# --- server -------------------------------------------------------------------------------------


def start_server(isolation: str) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "BENCH_ISOLATION": isolation}
    log = open(ROOT / "var" / "log" / "bench-orders-gunicorn.log", "a")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application", "--workers", "4",
         "--worker-class", "sync", "--bind", f"{HOST}:{PORT}", "--timeout", "60",
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
            conn.request("GET", "/bench/hello/")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not start; see var/log/bench-orders-gunicorn.log")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


# --- load generator -----------------------------------------------------------------------------


def _client(job: dict, method: str, path: str, until: float, out: list) -> None:
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    headers = {"Content-Type": "application/json"}
    if job.get("token"):
        headers["Authorization"] = f"Bearer {job['token']}"
    bodies = iter(job.get("bodies") or [])
    while time.monotonic() < until:
        body = None
        if method == "POST":
            body = next(bodies, None)
            if body is None:
                break
        started = time.perf_counter()
        try:
            # bytes body: headers and body leave in one send() (no Nagle/delayed-ACK stall)
            conn.request(method, path, body=body.encode() if body else None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            out.append((0, (time.perf_counter() - started) * 1000, "conn_error"))
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            continue
        tag = ""
        if response.status >= 400:
            try:
                tag = json.loads(payload).get("code", "")
            except ValueError:
                tag = ""
        out.append((response.status, (time.perf_counter() - started) * 1000, tag))
    conn.close()


def _process(jobs: list[dict], method: str, path: str, until: float) -> list:
    out: list = []
    threads = [threading.Thread(target=_client, args=(j, method, path, until, out)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def drive(jobs: list[dict], method: str, path: str, duration: float, processes: int = 2) -> dict:
    """Run `len(jobs)` clients for `duration` s; returns req/s, p50/p95 ms and status counts."""
    ctx = multiprocessing.get_context("fork")
    until = time.monotonic() + duration
    chunks = [jobs[i::processes] for i in range(processes)]
    started = time.perf_counter()
    with ctx.Pool(processes) as pool:
        parts = pool.starmap(_process, [(c, method, path, until) for c in chunks])
    elapsed = time.perf_counter() - started
    results = [r for part in parts for r in part]
    latencies = [ms for _, ms, _ in results]
    statuses: dict[str, int] = {}
    for status, _, tag in results:
        key = f"{status}{':' + tag if tag else ''}"
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "requests": len(results),
        "seconds": round(elapsed, 2),
        "req_per_s": round(len(results) / elapsed, 1),
        "ok_per_s": round(sum(1 for s, _, _ in results if s in (200, 201)) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "statuses": statuses,
    }


def race_over_http(buyers: int = 200, stock: int = 50) -> dict:
    """`buyers` concurrent POSTs (one thread + user each) for one commodity with `stock`."""
    from decimal import Decimal

    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.shopping.models import Commodity, Order, ShoppingCart
    from apps.users.models import Address, Area, User

    User.objects.filter(username__startswith="racer").delete()
    district = Area.objects.get(id=99_000_201)
    commodity = Commodity.objects.create(name="抢购商品", price=Decimal("1.00"), stock=stock)
    users = User.objects.bulk_create(
        User(username=f"racer{i}", password="!") for i in range(buyers)
    )
    jobs = []
    for user in users:
        address = Address.objects.create(
            user=user, receiver="抢购", province=district.parent.parent, city=district.parent,
            district=district, place="1号", mobile="13800000000",
        )  # fmt: skip
        row = ShoppingCart.objects.create(user=user, commodity=commodity, number=1)
        body = json.dumps({"address": address.pk, "pay_method": 1, "cart": [row.pk]})
        jobs.append((str(RefreshToken.for_user(user).access_token), body))
    barrier = threading.Barrier(buyers + 1)
    statuses: list[int] = []
    lock = threading.Lock()

    def buy(token: str, body: str) -> None:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=120)
        conn.connect()
        barrier.wait()
        conn.request("POST", "/api/shopping/orders/", body=body.encode(),
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})  # fmt: skip
        status = conn.getresponse().status
        conn.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=buy, args=job) for job in jobs]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    commodity.refresh_from_db()
    return {
        "buyers": buyers,
        "stock": stock,
        "ms": round(elapsed * 1000, 1),
        "created_201": statuses.count(201),
        "insufficient_409": statuses.count(409),
        "other": len(statuses) - statuses.count(201) - statuses.count(409),
        "final_stock": commodity.stock,
        "final_sales": commodity.sales,
        "orders": Order.objects.filter(goods__commodity=commodity).count(),
    }


# --- main ---------------------------------------------------------------------------------------


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    create_database()
    (ROOT / "var" / "log").mkdir(parents=True, exist_ok=True)
    results: dict = {"clients": args.clients, "duration_s": args.duration, "workers": 4,
                     "cpus": os.cpu_count(), "stock_hot": STOCK_HOT, "stock_spread": STOCK_SPREAD}  # fmt: skip

    def scenario(name: str, path: str, isolation: str, hot: bool) -> None:
        work = seed(args.clients, hot=hot)
        from django.db import connection

        connection.close()
        results[name] = drive(work, "POST", path, args.duration)
        results[name]["isolation"] = isolation
        results[name]["rows"] = "hot" if hot else "spread"
        results[name]["books"] = books(hot)
        print(f"{name:>10}: {json.dumps(results[name], ensure_ascii=False)}", flush=True)

    server = start_server("read committed")
    try:
        seed(args.clients)
        bare_jobs = [{} for _ in range(args.clients)]
        drive(bare_jobs, "GET", "/bench/hello/", 2.0)  # warm-up
        results["bare"] = drive(bare_jobs, "GET", "/bench/hello/", args.duration)
        print(f"{'bare':>10}: {json.dumps(results['bare'])}", flush=True)
        scenario("order", "/api/shopping/orders/", "read committed", hot=False)
        scenario("seed_rc", "/bench/seed-orders/", "read committed", hot=False)
        scenario("order_hot", "/api/shopping/orders/", "read committed", hot=True)
        scenario("seed_hot_rc", "/bench/seed-orders/", "read committed", hot=True)
        results["race"] = race_over_http()
        print(f"{'race':>10}: {json.dumps(results['race'])}", flush=True)
    finally:
        stop_server(server)
    server = start_server("repeatable read")
    try:
        scenario("order_hot_rr", "/api/shopping/orders/", "repeatable read", hot=True)
        scenario("seed_hot_rr", "/bench/seed-orders/", "repeatable read", hot=True)
    finally:
        stop_server(server)

    bare = results["bare"]["req_per_s"]
    results["ratios_to_bare"] = {
        name: round(results[name]["req_per_s"] / bare, 3)
        for name in ("order", "seed_rc", "order_hot", "seed_hot_rc", "order_hot_rr", "seed_hot_rr")
    }
    results["target_order_ratio"] = 0.09
    results["target_met"] = results["ratios_to_bare"]["order"] >= 0.09
    out = ROOT / "bench" / "results" / "orders.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(
        f"ratios to bare: {results['ratios_to_bare']} (target order ≥ 0.09: {results['target_met']})"
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    socket.setdefaulttimeout(120)
    main()
