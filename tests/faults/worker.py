"""A real `celery worker` process on the test database, and switches of the test process's app.

Shared by the root conftest's session-scoped `celery_worker` fixture and the fault tests' own
function-scoped workers (tests/test_faults_celery.py).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from tests.faults.procs import stop

ROOT = Path(__file__).resolve().parents[2]


def worker_env(*, smtp_port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process: this one's, on the test database (MariaDB: the
    `test_…` name pytest-django created), mail to the SMTP sink on `smtp_port`, not eager."""
    from django.db import connection

    env = dict(os.environ)
    url = os.environ.get("DATABASE_URL", "")
    if settings.DATABASES["default"]["ENGINE"].endswith("mysql") and url:
        test_name = connection.settings_dict["NAME"]  # already the test DB after setup
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + test_name
    env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    env.update(extra or {})
    return env


def start_worker(
    *, env: dict[str, str], queues: str, name: str, log_path: Path, timeout: float = 60.0
) -> subprocess.Popen:
    """Start `celery worker --pool=solo -Q <queues> -n <name>@%h` and wait until it answers a
    control ping (≤ `timeout` s). Raises RuntimeError (process killed) when it does not."""
    from celery_tasks.main import app

    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 (closed by stop_worker)
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_tasks.main", "worker", "--pool=solo",
         "-Q", queues, "-n", f"{name}@%h", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proc.log_file = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        replies = app.control.ping(timeout=1.0) or []
        if any(name in next(iter(r)) for r in replies):
            return proc
    stop_worker(proc)
    raise RuntimeError(f"the Celery worker {name} did not start; see {log_path}")


def stop_worker(proc: subprocess.Popen, *, timeout: float = 20.0) -> None:
    """SIGTERM (warm shutdown), SIGKILL after `timeout` s; close its log."""
    stop(proc, timeout=timeout)
    log = getattr(proc, "log_file", None)
    if log is not None:
        log.close()


@contextlib.contextmanager
def eager(enabled: bool) -> Iterator[None]:
    """Run tasks in this process (`enabled`) or send them to the broker, whatever
    CELERY_TASK_ALWAYS_EAGER says (a session `celery_worker` turns it off until the session ends)."""
    from celery_tasks.main import app

    previous = (app.conf.task_always_eager, app.conf.CELERY_TASK_ALWAYS_EAGER)
    app.conf.task_always_eager = enabled
    # with namespace="CELERY" the CELERY_-prefixed key wins over the one above
    app.conf.CELERY_TASK_ALWAYS_EAGER = enabled
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.CELERY_TASK_ALWAYS_EAGER = previous


@contextlib.contextmanager
def routed_to(queue: str) -> Iterator[None]:
    """Route every task published from this process to `queue` (a queue only our worker reads)."""
    from celery_tasks.main import app

    previous = app.conf.task_routes

    def apply(routes) -> None:
        app.conf.CELERY_TASK_ROUTES = routes  # the key that wins (see eager)
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)  # a cached_property built from the routes

    apply({"*": {"queue": queue}})
    try:
        yield
    finally:
        apply(previous)
