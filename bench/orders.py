"""Benchmark of order creation under load (API.md §2.6), against gunicorn on MariaDB + Redis.

Run: `flock /tmp/stsys-bench.lock .venv/bin/python bench/orders.py [--duration S] [--clients N]
[--only order race ...]`. It creates the bench database `stsys_shopping_bench` (MariaDB on
127.0.0.1:3306, user stsys), starts gunicorn (4 sync workers, `bench/orders_settings.py`: project
settings + bench URLconf) and drives it with `wrk` (2 threads, 50 connections, `apt-get install
wrk`): a generated Lua script walks a pre-built table of requests (Bearer token + body per entry),
so the client spends little CPU and the bare view and the order endpoint are measured with the same
generator and the same gunicorn. Each scenario: `--warmup` s (default 2), then `--duration` s.

- `bare`: `GET /bench/hello/`, a bare Django JSON view (the ceiling);
- `order`: the full `POST /api/shopping/orders/` (JWT, throttles in Redis, validation of address
  and 2 cart rows, conditional stock UPDATEs, Order + goods, snapshot, cart cleanup); entry i of
  the table is client i mod 50's next order, over distinct commodities (stock 1000 each);
- `seed_rc`: the seed's optimistic `while True` loop (bounded at 5 s → `stalled`), same rows;
- `order_hot` / `seed_hot_rc`: every client's k-th order takes the same commodity pair (stock 30
  each for 50 clients), so orders queue on the same rows and 20 of each 50 answer 409;
- `race`: 200 simultaneous buyers over HTTP (raw sockets, all requests written in one loop) for
  one commodity with stock 50: time until every answer is in;
- `order_hot_rr` / `seed_hot_rr`: the hot scenarios with the server under REPEATABLE READ.

After each order scenario the stock books are checked: stock + sales = initial, sales = Σ order
goods, never oversold. Prints a line per scenario and writes `bench/results/orders.json` with the
ratio of each scenario's req/s to the bare view's in the same run (target: order ≥ 0.09×, race <
1 s). The bare view is measured first and again last; the ratios divide by the higher of the two
(the machine is shared, and a lower ceiling would flatter the ratios). Each scenario also reports
CPU ms per request of gunicorn, MariaDB, Redis and wrk. `bench/orders_profile.py` gives the in-process cost, SQL and Redis counts of one order.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "stsys_shopping_bench"
PORT = 8765
HOST = "127.0.0.1"
COMMODITIES = 300  # each client holds one cart row per commodity; an order takes 2
STOCK_HOT = 30  # < clients: every hot pair sells out and later buyers get 409
STOCK_SPREAD = 1000
WORKERS = 4
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

from bench import wrk as wrk_lua  # noqa: E402

django.setup()


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


def settle(quiet_s: float = 1.0, limit_s: float = 30.0) -> int:
    """Wait until no order has been created for `quiet_s` (requests wrk left queued in the
    server finish after it stops); returns the order count."""
    from apps.shopping.models import Order

    deadline = time.monotonic() + limit_s
    count = Order.objects.count()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = Order.objects.count()
        if now == count:
            break
        count = now
    return count


def books(hot: bool, settled_orders: int) -> dict:
    """Stock books after a settled run: consistency and oversell counts."""
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
    assert Order.objects.count() == settled_orders, "orders still being created"
    return {"orders": settled_orders, "inconsistent_commodities": inconsistent,
            "oversold_commodities": oversold}  # fmt: skip


# --- server -------------------------------------------------------------------------------------


def start_server(isolation: str) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "BENCH_ISOLATION": isolation}
    log = open(ROOT / "var" / "log" / "bench-orders-gunicorn.log", "a")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application", "--workers", str(WORKERS),
         "--worker-class", "sync", "--bind", f"{HOST}:{PORT}", "--timeout", "60",
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    _SERVER["pid"] = proc.pid
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

WRK_THREADS = 2
WORK_DIR = ROOT / "var" / "bench-orders"

LUA = r"""
-- generated by bench/orders.py: walks a pre-built request table, counts statuses and error codes
function init(args)
  first = tonumber(args[1]) or 0
  stride = tonumber(args[2]) or 1
  n = 0
  statuses = {}
end
function request()
  local _, r = next_request()
  return wrk.format(r[1], r[2], r[3], r[4])
end
function response(status, headers, body)
  local key = tostring(status)
  if status >= 400 then
    local code = string.match(body, '"code"%%s*:%%s*"([^"]+)"')
    if code then key = key .. ":" .. code end
  end
  statuses[key] = (statuses[key] or 0) + 1
end
function done(summary, latency, requests)
  local last, counts = last_index(), {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do counts[k] = (counts[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%%s":%%d', k, v)) end
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,"next_index":%%d,' ..
    '"statuses":{%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, last, table.concat(parts, ",")))
end
"""


def write_lua(name: str, requests: list[dict]) -> Path:
    """A wrk script whose request table is `requests` (`method`, `path`, `headers`, `body`)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / f"{name}.lua"
    path.write_text((wrk_lua.WALK_LUA + LUA) % {"table": wrk_lua.lua_request_table(requests)})
    return path


def wrk(script: Path, seconds: float, clients: int, first: int = 0) -> dict:
    """One wrk run (`WRK_THREADS` threads, `clients` connections); the script's JSON summary."""
    return wrk_lua.run(
        script,
        url=f"http://{HOST}:{PORT}",
        seconds=seconds,
        threads=WRK_THREADS,
        connections=clients,
        script_args=(first, WRK_THREADS),
        request_timeout="30s",
        grace=120,
    )


_SERVER: dict = {}  # {"pid": gunicorn master pid} while a server runs


def drive(
    name: str, requests: list[dict], duration: float, clients: int, warmup: float, once: bool
) -> dict:
    """Warm up, then load `requests` with wrk for `duration` s; req/s, p50/p95 ms, statuses.

    `once`: every table entry may be sent only once (an order consumes its cart rows), so the
    measured run starts where the warm-up stopped and fails if it runs past the table.
    """
    script = write_lua(name, requests)
    warm = wrk(script, warmup, clients) if warmup > 0 else {"next_index": 0}
    first = warm["next_index"] if once else 0
    before = wrk_lua.cpu_seconds(_SERVER.get("pid"))
    raw = wrk(script, duration, clients, first)
    after = wrk_lua.cpu_seconds(_SERVER.get("pid"))
    if once and raw["next_index"] > len(requests):
        raise SystemExit(f"{name}: ran out of pre-built requests ({len(requests)})")
    seconds = raw["duration_us"] / 1e6
    ok = sum(v for k, v in raw["statuses"].items() if k in ("200", "201"))
    errors = {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]}
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "req_per_s": round(raw["requests"] / seconds, 1),
        "ok_per_s": round(ok / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "statuses": dict(sorted(raw["statuses"].items())),
        **({"socket_errors": errors} if errors else {}),
        # CPU ms per request while wrk ran (MariaDB/Redis/ES: every such process on the machine)
        "cpu_ms_per_request": wrk_lua.cpu_ms_per_request(before, after, raw["requests"])
        if raw["requests"]
        else None,
        "cpu_s": {k: round(after[k] - before[k], 2) for k in after},
    }


def order_requests(work: list[dict], path: str) -> list[dict]:
    """The order table: entry i is client i mod N's (i div N)-th body, so neighbours differ."""
    table = []
    for k in range(len(work[0]["bodies"])):
        for job in work:
            table.append({
                "method": "POST", "path": path, "body": job["bodies"][k],
                "headers": {"Authorization": f"Bearer {job['token']}",
                            "Content-Type": "application/json"},
            })  # fmt: skip
    return table


def _http_request(token: str, body: str) -> bytes:
    return (
        f"POST /api/shopping/orders/ HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}"
    ).encode()


def race_over_http(buyers: int = 200, stock: int = 50) -> dict:
    """`buyers` simultaneous POSTs (one user + connection each) for one commodity with `stock`.

    Each buyer first loads its cart (a signed-in shopper: the server has its auth state cached).
    All connections are opened first; then every request is written in one tight loop and the
    answers are read with a selector until every connection is closed by the server. `ms` runs
    from the first write to the last complete answer (client cost: a few ms of socket calls).
    """
    import selectors
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
    addresses = Address.objects.bulk_create(
        Address(user=u, receiver="抢购", province=district.parent.parent, city=district.parent,
                district=district, place="1号", mobile="13800000000")
        for u in users
    )  # fmt: skip
    rows = ShoppingCart.objects.bulk_create(
        ShoppingCart(user=u, commodity=commodity, number=1) for u in users
    )
    if rows[0].pk is None:
        rows = list(ShoppingCart.objects.filter(commodity=commodity).order_by("user_id"))
    payloads = [
        _http_request(
            str(RefreshToken.for_user(user).access_token),
            json.dumps({"address": address.pk, "pay_method": 1, "cart": [row.pk]}),
        )
        for user, address, row in zip(users, addresses, rows, strict=True)
    ]
    for user in users:  # signed-in buyers who looked at their cart: auth state cached
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        token = str(RefreshToken.for_user(user).access_token)
        conn.request("GET", "/api/shopping/cart/", headers={"Authorization": f"Bearer {token}"})
        assert conn.getresponse().status == 200
        conn.close()
    socks = [socket.create_connection((HOST, PORT), timeout=120) for _ in payloads]
    answers = {s.fileno(): bytearray() for s in socks}
    time.sleep(0.5)  # let the workers settle on accept()
    started = time.perf_counter()
    for sock, payload in zip(socks, payloads, strict=True):
        sock.sendall(payload)
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    open_count = len(socks)
    while open_count:
        for key, _ in selector.select(timeout=120):
            chunk = key.fileobj.recv(65536)
            if chunk:
                answers[key.fileobj.fileno()] += chunk
            else:
                selector.unregister(key.fileobj)
                key.fileobj.close()
                open_count -= 1
    elapsed = time.perf_counter() - started
    statuses = [int(a.split(b" ", 2)[1]) if a else 0 for a in answers.values()]
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


ALL_SCENARIOS = ["order", "seed_rc", "order_hot", "seed_hot_rc", "race", "order_hot_rr",
                 "seed_hot_rr"]  # fmt: skip
TARGET_RATIO, TARGET_RACE_MS = 0.09, 1000.0


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per scenario"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per scenario")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--only", nargs="*", choices=ALL_SCENARIOS,
                        help="run only these scenarios (bare always runs)")  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print only; keep the JSON file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk")
    wanted = set(args.only or ALL_SCENARIOS)
    create_database()
    (ROOT / "var" / "log").mkdir(parents=True, exist_ok=True)
    results: dict = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "generator": f"wrk -t{WRK_THREADS} -c{args.clients} (Lua request table)",
        "clients": args.clients, "duration_s": args.duration, "warmup_s": args.warmup,
        "workers": WORKERS, "cpus": os.cpu_count(), "stock_hot": STOCK_HOT,
        "stock_spread": STOCK_SPREAD, "loadavg_1m_before": os.getloadavg()[0],
    }  # fmt: skip

    def scenario(name: str, path: str, isolation: str, hot: bool) -> None:
        if name not in wanted:
            return
        work = seed(args.clients, hot=hot)
        from django.db import connection

        connection.close()
        table = order_requests(work, path)
        results[name] = drive(name, table, args.duration, args.clients, args.warmup, once=True)
        results[name]["isolation"] = isolation
        results[name]["rows"] = "hot" if hot else "spread"
        results[name]["books"] = books(hot, settle())
        print(f"{name:>12}: {json.dumps(results[name], ensure_ascii=False)}", flush=True)

    server = start_server("read committed")
    try:
        seed(args.clients)
        bare = [{"method": "GET", "path": "/bench/hello/", "headers": {}}]
        results["bare"] = drive("bare", bare, args.duration, args.clients, args.warmup, once=False)
        print(f"{'bare':>12}: {json.dumps(results['bare'])}", flush=True)
        scenario("order", "/api/shopping/orders/", "read committed", hot=False)
        scenario("seed_rc", "/bench/seed-orders/", "read committed", hot=False)
        scenario("order_hot", "/api/shopping/orders/", "read committed", hot=True)
        scenario("seed_hot_rc", "/bench/seed-orders/", "read committed", hot=True)
        if "race" in wanted:
            results["race"] = race_over_http()
            print(f"{'race':>12}: {json.dumps(results['race'])}", flush=True)
        # the ceiling again: other load on the machine moves it; the ratios use the higher one
        results["bare_after"] = drive("bare", bare, args.duration, args.clients, 0, once=False)
        print(f"{'bare_after':>12}: {json.dumps(results['bare_after'])}", flush=True)
    finally:
        stop_server(server)
    if wanted & {"order_hot_rr", "seed_hot_rr"}:
        server = start_server("repeatable read")
        try:
            scenario("order_hot_rr", "/api/shopping/orders/", "repeatable read", hot=True)
            scenario("seed_hot_rr", "/bench/seed-orders/", "repeatable read", hot=True)
        finally:
            stop_server(server)

    results["loadavg_1m_after"] = os.getloadavg()[0]
    bare_rate = max(results["bare"]["req_per_s"], results["bare_after"]["req_per_s"])
    results["bare_req_per_s_for_ratios"] = bare_rate
    results["ratios_to_bare"] = {
        name: round(results[name]["req_per_s"] / bare_rate, 3)
        for name in ALL_SCENARIOS
        if name in results and name != "race"
    }
    results["target"] = {"order_ratio": TARGET_RATIO, "race_ms": TARGET_RACE_MS}
    if "order" in results:
        results["target"]["order_ratio_met"] = results["ratios_to_bare"]["order"] >= TARGET_RATIO
    if "race" in results:
        results["target"]["race_met"] = results["race"]["ms"] < TARGET_RACE_MS
    print(f"ratios to bare: {results['ratios_to_bare']}; target: {results['target']}")
    if not args.no_write:
        out = ROOT / "bench" / "results" / "orders.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    socket.setdefaulttimeout(120)
    main()
