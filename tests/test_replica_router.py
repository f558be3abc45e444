"""Read-replica router (utils/db_router.py) on a real MariaDB primary + replica pair.

The pair (127.0.0.1:3308 primary with binlog, :3309 read-only replica, GTID replication) is started
by tests/services/mariadb_replica.sh; the main test database is not touched. The fixture adds two
aliases for this module only: `pair_primary` (account stsys) and `pair_replica0` (account stsys_ro,
SELECT only, so a write routed to the replica would fail). Under CI a pair that cannot start fails
the tests; elsewhere they are skipped. The pure routing-rule tests at the end need no database.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import environ
import pytest
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path

from apps.users.models import Area
from conftest import require_service
from utils.db_router import (
    ReplicaPinMiddleware,
    ReplicaRouter,
    pin_to_primary,
    pinned_to_primary,
    replica_scope,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "services" / "mariadb_replica.sh"
PRIMARY, REPLICA = "pair_primary", "pair_replica0"
DB_NAME = "stsys_router_test"
# the ports tests/services/mariadb_replica.sh uses (same environment variables, same defaults)
PRIMARY_PORT = int(os.environ.get("PAIR_PRIMARY_PORT") or 3308)
REPLICA_PORT = int(os.environ.get("PAIR_REPLICA_PORT") or 3309)
PRIMARY_URL = f"mysql://stsys:stsys@127.0.0.1:{PRIMARY_PORT}/{DB_NAME}"
REPLICA_URL = f"mysql://stsys_ro:stsys_ro@127.0.0.1:{REPLICA_PORT}/{DB_NAME}"
REPLICATION_WAIT = 15.0  # seconds a row may take to reach the replica


def _alias_config(url: str) -> dict:
    cfg = environ.Env.db_url_config(url)
    cfg["OPTIONS"] = {"charset": "utf8mb4", "isolation_level": "read committed"}
    # fill Django's defaults (ATOMIC_REQUESTS, TIME_ZONE, TEST, ...) like the settings do
    return connections.configure_settings({"default": {}, "x": cfg})["x"]


def _wait_until(predicate, timeout: float = REPLICATION_WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def replica_pair(django_db_blocker) -> Iterator[ReplicaRouter]:
    """Start the pair (on PAIR_PRIMARY_PORT / PAIR_REPLICA_PORT, default 3308 / 3309), add the two aliases and an `area` table (created on the primary only)."""
    try:
        done = subprocess.run(
            ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=240, check=False
        )
        ok, how = done.returncode == 0, (done.stderr or done.stdout)[-600:]
    except (OSError, subprocess.TimeoutExpired) as exc:
        ok, how = False, str(exc)
    require_service("MariaDB primary+replica pair", ok, f"{SCRIPT.name}: {how}")

    import MySQLdb

    admin = MySQLdb.connect(host="127.0.0.1", port=PRIMARY_PORT, user="stsys", passwd="stsys")
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin.cursor().execute(
        f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    admin.close()

    saved = dict(settings.DATABASES)
    for alias, url in ((PRIMARY, PRIMARY_URL), (REPLICA, REPLICA_URL)):
        cfg = _alias_config(url)
        settings.DATABASES[alias] = cfg
        connections.settings[alias] = cfg
    router = ReplicaRouter(primary=PRIMARY, replicas=[REPLICA])
    with django_db_blocker.unblock():
        with connections[PRIMARY].schema_editor() as editor:  # DDL reaches the replica by binlog
            editor.create_model(Area)
        assert _wait_until(lambda: "area" in connections[REPLICA].introspection.table_names()), (
            "the replica never received the CREATE TABLE"
        )
        try:
            yield router
        finally:
            for alias in (PRIMARY, REPLICA):
                connections[alias].close()
                del connections[alias]
                connections.settings.pop(alias, None)
            settings.DATABASES.clear()
            settings.DATABASES.update(saved)
            admin = MySQLdb.connect(
                host="127.0.0.1", port=PRIMARY_PORT, user="stsys", passwd="stsys"
            )
            admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
            admin.close()


@pytest.fixture
def routed(replica_pair, django_db_blocker) -> Iterator[ReplicaRouter]:
    """The pair's router installed as the only router, an empty table, DB access unblocked."""
    with django_db_blocker.unblock(), override_settings(DATABASE_ROUTERS=[replica_pair]):
        with connections[PRIMARY].cursor() as cursor:  # raw: the ORM would cascade to address
            cursor.execute("DELETE FROM area")
        assert _wait_until(lambda: not Area.objects.using(REPLICA).exists())
        yield replica_pair


class Where:
    """Which of the two connections ran SQL inside the block: `.aliases` after exit."""

    def __enter__(self) -> "Where":
        self._captures = {a: CaptureQueriesContext(connections[a]) for a in (PRIMARY, REPLICA)}
        for capture in self._captures.values():
            capture.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for capture in self._captures.values():
            capture.__exit__(*exc)
        self.aliases = sorted(a for a, c in self._captures.items() if c.captured_queries)


# --- through the real request cycle ---------------------------------------------------------

_log: list[tuple[str, list[str], object]] = []


def _read_write_read(request: HttpRequest) -> HttpResponse:
    """A view: read, write, read again; records where each step's SQL ran."""
    area_id = int(request.GET["id"])
    with Where() as w:
        found = Area.objects.filter(id=area_id).exists()
    _log.append(("read before write", w.aliases, found))
    with Where() as w:
        Area.objects.create(id=area_id, name="北京市")
    _log.append(("write", w.aliases, None))
    with Where() as w:
        name = Area.objects.get(id=area_id).name
    _log.append(("read after write", w.aliases, name))
    return HttpResponse(json.dumps({"name": name}), content_type="application/json")


def _read_only(request: HttpRequest) -> HttpResponse:
    """A view that only reads."""
    with Where() as w:
        count = Area.objects.count()
    _log.append(("read", w.aliases, count))
    return HttpResponse(str(count))


urlpatterns = [path("rwr", _read_write_read), path("r", _read_only)]
_MIDDLEWARE = [
    "utils.middleware.RequestIdMiddleware",
    "utils.db_router.ReplicaPinMiddleware",
    "django.middleware.common.CommonMiddleware",
]


def test_request_reads_replica_writes_primary_then_reads_primary(routed) -> None:
    _log.clear()
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=_MIDDLEWARE):
        response = Client().get("/rwr", {"id": 110000})
        assert response.status_code == 200, response.content
        assert response.json() == {"name": "北京市"}
        assert _log == [
            ("read before write", [REPLICA], False),
            ("write", [PRIMARY], None),
            # read-your-writes: the same request reads the primary, whatever the replica lag
            ("read after write", [PRIMARY], "北京市"),
        ]
        assert not pinned_to_primary(), "the pin leaked out of the request"

        # replication delivered the row: the replica (read-only account) sees it
        assert _wait_until(lambda: Area.objects.using(REPLICA).filter(id=110000).exists())

        # the next request starts unpinned and reads the replica again
        _log.clear()
        assert Client().get("/r").content == b"1"
        assert _log == [("read", [REPLICA], 1)]


def test_write_routed_to_primary_and_replicated(routed) -> None:
    with replica_scope():
        with Where() as w:
            Area.objects.create(id=120000, name="天津市")
        assert w.aliases == [PRIMARY]
        assert pinned_to_primary()
    assert not pinned_to_primary()

    with replica_scope(), Where() as w:
        assert _wait_until(lambda: Area.objects.filter(id=120000).exists())
    assert w.aliases == [REPLICA]
    # the row on the replica is the one written on the primary
    assert Area.objects.using(REPLICA).get(id=120000).name == "天津市"


def test_reads_inside_a_primary_transaction_stay_on_primary(routed) -> None:
    with replica_scope():
        with transaction.atomic(using=PRIMARY), Where() as w:
            list(Area.objects.all())
        assert w.aliases == [PRIMARY]
        with Where() as w:  # transaction over, nothing written: back to the replica
            list(Area.objects.all())
        assert w.aliases == [REPLICA]


def test_select_for_update_goes_to_primary(routed) -> None:
    Area.objects.using(PRIMARY).create(id=130000, name="河北省")
    with replica_scope(), transaction.atomic(using=PRIMARY), Where() as w:
        assert Area.objects.select_for_update().get(id=130000).name == "河北省"
    assert w.aliases == [PRIMARY]


def test_replica_account_cannot_write(routed) -> None:
    """Why routing matters: a write on the replica connection is refused, nothing diverges."""
    with pytest.raises(DatabaseError):
        Area.objects.using(REPLICA).create(id=140000, name="山西省")
    assert not Area.objects.using(PRIMARY).filter(id=140000).exists()


def test_migrations_and_relations(routed) -> None:
    router = routed
    assert router.allow_migrate(PRIMARY, "users", "area") is True
    assert router.allow_migrate(REPLICA, "users", "area") is False
    Area.objects.using(PRIMARY).create(id=150000, name="内蒙古自治区")
    assert _wait_until(lambda: Area.objects.using(REPLICA).filter(id=150000).exists())
    on_primary = Area.objects.using(PRIMARY).get(id=150000)
    on_replica = Area.objects.using(REPLICA).get(id=150000)
    assert router.allow_relation(on_primary, on_replica) is True
    # a related lookup follows the instance's alias
    with replica_scope(), Where() as w:
        list(on_replica.subs.all())
    assert w.aliases == [REPLICA]


# --- routing rules without a database -------------------------------------------------------


def test_reads_spread_over_replicas_and_pin_after_write() -> None:
    router = ReplicaRouter(primary="default", replicas=["replica0", "replica1"])
    with replica_scope():
        seen = {router.db_for_read(Area) for _ in range(200)}
        assert seen == {"replica0", "replica1"}
        assert router.db_for_write(Area) == "default"
        assert {router.db_for_read(Area) for _ in range(20)} == {"default"}
    with replica_scope():
        assert router.db_for_read(Area) in {"replica0", "replica1"}


def test_no_replicas_means_primary() -> None:
    with replica_scope():
        assert ReplicaRouter(primary="default", replicas=[]).db_for_read(Area) == "default"


def test_middleware_scopes_the_pin_to_one_request() -> None:
    seen: list[bool] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(pinned_to_primary())
        pin_to_primary()
        return HttpResponse("ok")

    middleware = ReplicaPinMiddleware(view)
    with replica_scope():
        middleware(HttpRequest())
        middleware(HttpRequest())
        assert seen == [False, False]
        assert not pinned_to_primary()


def test_celery_task_reads_the_primary_and_restores_the_callers_pin() -> None:
    from celery.signals import task_postrun, task_prerun

    with replica_scope():
        assert not pinned_to_primary()  # e.g. a request that has not written runs an eager task
        task_prerun.send(sender=None, task_id="t-1", task=None, args=(), kwargs={})
        assert pinned_to_primary(), "a task starts pinned: it follows up a commit"
        task_postrun.send(sender=None, task_id="t-1", task=None, args=(), kwargs={})
        assert not pinned_to_primary(), "the caller's state is back after the task"
        pin_to_primary()
        task_prerun.send(sender=None, task_id="t-2", task=None, args=(), kwargs={})
        task_postrun.send(sender=None, task_id="t-2", task=None, args=(), kwargs={})
        assert pinned_to_primary()


def test_settings_install_router_and_middleware_from_env() -> None:
    """DATABASE_REPLICA_URLS → aliases replica0..N, the router and the middleware (subprocess)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([sorted(s.DATABASES), s.DATABASE_ROUTERS, s.MIDDLEWARE, "
        "s.DATABASES['replica1']['PORT'], s.DATABASES['replica1']['OPTIONS'].get('charset')]))"
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="mysql://u:p@127.0.0.1:3306/a",
        DATABASE_REPLICA_URLS="mysql://r:p@127.0.0.1:3309/a,mysql://r:p@127.0.0.1:3310/a",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    aliases, routers, middleware, port, charset = json.loads(out.stdout.strip().splitlines()[-1])
    assert aliases == ["default", "replica0", "replica1"]
    assert routers == ["utils.db_router.ReplicaRouter"]
    assert "utils.db_router.ReplicaPinMiddleware" in middleware
    assert port == 3310
    assert charset == "utf8mb4"
