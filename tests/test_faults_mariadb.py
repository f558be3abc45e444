"""Fault: MariaDB restarted under load (issue 7 §4) — requests recover without restarting the
web processes.

A throwaway MariaDB (own datadir under var/fault-mariadb, own free port) gets the migrated schema
and one user; gunicorn (2 sync workers, the embedded caches: no Redis) serves against it. A bounded
client loop in a thread reads `GET /api/shopping/orders/` (owner-scoped, never response-cached: one
DB read per request) while the server is killed (SIGKILL), kept down 3 s, and started again. Checks:
every request gets an answer within `SLOW` seconds (no hang); before the kill all are 200; every
failure is a 503 `{"detail": "Database is temporarily unavailable."}` from our exception handler,
and only between the kill and `GRACE` seconds after the server is back; afterwards all are 200
again, served by the same gunicorn worker processes (CONN_HEALTH_CHECKS drops the dead connection).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import require_service
from tests.faults.mariadb import ThrowawayMariaDB
from tests.faults.procs import free_port, stop, wait_until

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "stsys_fault"
DB_DOWN = "Database is temporarily unavailable."
SLOW = 5.0  # seconds: an answer slower than this is a hang
OUTAGE = 3.0  # seconds the server stays down
GRACE = 2.0  # seconds after the server answers pings in which failures are still accepted
PATH = "/api/shopping/orders/"

TOKEN_SCRIPT = """
from apps.users.models import User
from rest_framework_simplejwt.tokens import RefreshToken
user, _ = User.objects.get_or_create(username="fault_db_user", defaults={"email": "f@example.com"})
print(RefreshToken.for_user(user).access_token)
"""


@dataclass
class Sample:
    sent: float  # monotonic seconds
    seconds: float
    status: int | None  # None: no HTTP answer (connection error or timeout)
    detail: str | None


def _app_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "ELASTICSEARCH"))}
    env.update(
        DATABASE_URL=database_url,
        TESTING="true",
        DEBUG="true",
        CELERY_TASK_ALWAYS_EAGER="true",
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        # the load loop sends thousands of requests in seconds: above the default 1000/hour
        THROTTLE_USER="1000000/hour",
    )
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_RESULT_BACKEND", None)
    return env


def _manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def _get(port: int, token: str) -> Sample:
    sent = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SLOW + 5)
    try:
        conn.request("GET", PATH, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        detail = None
        if response.status != 200:
            try:
                detail = json.loads(body).get("detail")
            except ValueError:
                detail = body[:200].decode(errors="replace")
        return Sample(sent, time.monotonic() - sent, response.status, detail)
    except OSError as exc:
        return Sample(sent, time.monotonic() - sent, None, repr(exc))
    finally:
        conn.close()


@pytest.fixture
def served_db(tmp_path):
    """(server, gunicorn process, port, token): gunicorn with 2 workers on a throwaway MariaDB."""
    require_service("MariaDB server binaries", ThrowawayMariaDB.available(), "mariadbd missing")
    server = ThrowawayMariaDB()
    gunicorn = None
    try:
        server.start()
        server.create_database(DB_NAME)
        env = _app_env(server.url(DB_NAME))
        _manage(env, "migrate", "--noinput", "-v0")
        token = _manage(env, "shell", stdin=TOKEN_SCRIPT).strip().splitlines()[-1]
        port = free_port()
        log = open(ROOT / "var" / "log" / "fault-gunicorn.log", "w")  # noqa: SIM115
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "2",
             "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(lambda: _get(port, token).status == 200, timeout=30, what="gunicorn")
        yield server, gunicorn, port, token
    finally:
        stop(gunicorn)
        server.close()


def test_mariadb_restart_under_load_requests_recover(served_db):
    server, gunicorn, port, token = served_db
    workers_before = _children(gunicorn.pid)
    assert len(workers_before) == 2
    samples: list[Sample] = []
    done = threading.Event()

    def load() -> None:
        deadline = time.monotonic() + 45  # bounded whatever happens
        while not done.is_set() and time.monotonic() < deadline:
            samples.append(_get(port, token))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    time.sleep(2)
    killed = time.monotonic()
    server.kill()
    time.sleep(OUTAGE)
    server.start()
    back = time.monotonic()
    time.sleep(4)
    done.set()
    thread.join(timeout=SLOW + 10)
    assert not thread.is_alive()

    assert all(s.status is not None for s in samples), [s for s in samples if s.status is None][:3]
    assert max(s.seconds for s in samples) < SLOW, "a request hung"
    before = [s for s in samples if s.sent + s.seconds < killed]
    during = [s for s in samples if killed <= s.sent < back]
    after = [s for s in samples if s.sent >= back + GRACE]
    assert before
    assert all(s.status == 200 for s in before)
    failures = [s for s in samples if s.status != 200]
    assert failures, "the outage was not seen by any request"
    assert {(s.status, s.detail) for s in failures} == {(503, DB_DOWN)}
    assert all(killed - 0.5 <= s.sent < back + GRACE for s in failures)
    assert sum(s.status == 503 for s in during) >= len(during) // 2
    assert len(after) >= 20
    assert all(s.status == 200 for s in after)
    assert gunicorn.poll() is None, "gunicorn exited"
    assert _children(gunicorn.pid) == workers_before, "web workers were restarted"
    recovered = min((s.sent for s in samples if s.sent >= back and s.status == 200), default=None)
    print(
        f"\n{len(samples)} requests: {len(before)} before, {len(during)} during the outage "
        f"({len(failures)} × 503), {len(after)} after; first 200 {recovered - back:.2f} s after "
        f"the restart; slowest answer {max(s.seconds for s in samples) * 1000:.0f} ms"
    )
