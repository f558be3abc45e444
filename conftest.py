"""Root fixtures: users by role, API clients, and the real services the tests run against.

Under CI (`CI` set) a test whose service is missing fails; elsewhere it is skipped with the reason.
"""

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

ROOT = Path(__file__).resolve().parent
IN_CI = bool(os.environ.get("CI"))


def require_service(name: str, available: bool, how: str) -> None:
    """Fail under CI, skip elsewhere, when service `name` is not available."""
    if available:
        return
    message = f"{name} is not available ({how}); start it with `make services`"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def mariadb() -> None:
    """Require the test database to be MariaDB/MySQL."""
    engine = settings.DATABASES["default"]["ENGINE"]
    require_service("MariaDB", engine.endswith("mysql"), "DATABASE_URL is not mysql://")


@pytest.fixture
def redis_required() -> None:
    """Require Redis (REDIS_URL set and answering)."""
    ok = bool(settings.REDIS_URL)
    if ok:
        from django_redis import get_redis_connection

        try:
            get_redis_connection("default").ping()
        except Exception:
            ok = False
    require_service("Redis", ok, "REDIS_URL unset or not answering")


def _make_user(username: str, group: str | None = None, **extra):
    from django.contrib.auth.models import Group

    from apps.users.models import User

    user = User.objects.create_user(
        username=username, password="pw-Secret-123", email=f"{username}@example.com", **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def user(db):
    """A plain user (no group): gets the student view."""
    return _make_user("plainuser")


@pytest.fixture
def student(db):
    """A member of group `student`."""
    return _make_user("student1", "student")


@pytest.fixture
def teacher(db):
    """A member of group `teacher`."""
    return _make_user("teacher1", "teacher")


@pytest.fixture
def other_teacher(db):
    """A second teacher."""
    return _make_user("teacher2", "teacher")


@pytest.fixture
def staff(db):
    """A staff user."""
    return _make_user("staff1", is_staff=True)


@pytest.fixture
def api_client() -> APIClient:
    """An unauthenticated DRF test client."""
    return APIClient()


@pytest.fixture
def client_for():
    """`client_for(user)` → an APIClient sending that user's Bearer access token (None: anon)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token = RefreshToken.for_user(user).access_token
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.fixture(autouse=True)
def _role_groups(request) -> None:
    """Recreate the role groups for DB tests: a transactional test's flush deletes the rows
    that the data migration `users.0002_role_groups` made (as it would in a real database)."""
    if request.node.get_closest_marker("django_db") is None:
        names = _DB_FIXTURES & set(request.fixturenames)
        if not names:
            return
        transactional = names & {"transactional_db", "live_server", "django_db_reset_sequences"}
        request.getfixturevalue("transactional_db" if transactional else "db")
    from django.contrib.auth.models import Group

    from apps.users.models import STUDENT_GROUP, TEACHER_GROUP

    for name in (TEACHER_GROUP, STUDENT_GROUP):
        Group.objects.get_or_create(name=name)


@pytest.fixture(autouse=True)
def _clear_caches() -> None:
    """Each test starts with empty caches (throttle counters, captcha, responses)."""
    from django.core.cache import caches

    for alias in settings.CACHES:
        with contextlib.suppress(Exception):  # Redis down is itself under test in fault tests
            caches[alias].clear()


# --- SMTP sink and a real Celery worker ----------------------------------------------------------


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Message

        sink = self

        class Keep(Message):
            def handle_message(self, message) -> None:
                sink.messages.append(message)

        self.messages: list = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)

    def wait_for(self, count: int, timeout: float = 30.0) -> list:
        """Block until `count` messages arrived (or `timeout` seconds passed); return them."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.messages)


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SMTP sink (aiosmtpd) for the session."""
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, smtp_sink) -> Iterator[subprocess.Popen]:
    """A real `celery worker` process on the test database and the SMTP sink (all queues).

    Requires a broker (Redis). While the fixture is active, tasks are sent to the broker
    instead of running eagerly. Tests using it must be `django_db(transaction=True)`.
    """
    from tests.faults.worker import eager, start_worker, stop_worker, worker_env

    require_service("Celery broker", bool(settings.CELERY_BROKER_URL), "REDIS_URL unset")
    hostname = f"test-{os.getpid()}"
    try:  # robustness: the worker process code is shared with tests/test_faults_celery.py
        proc = start_worker(
            env=worker_env(smtp_port=smtp_sink.port),
            queues=settings.CELERY_QUEUES_ALL,
            name=hostname,
            log_path=ROOT / "var" / "log" / "celery-test-worker.log",
        )
    except RuntimeError as exc:
        pytest.fail(str(exc))
    with eager(False):
        yield proc
    stop_worker(proc)
