"""Read-replica routing (API.md §0 `DATABASE_REPLICA_URLS`).

The settings turn each URL of `DATABASE_REPLICA_URLS` into an alias `replica0..N` and then install
`ReplicaRouter` and `ReplicaPinMiddleware`. Rules:

- writes (and `select_for_update`, `get_or_create`, ... which Django routes as writes) → `default`;
- reads → a random replica, unless the current request/task has already written, or a transaction
  is open on the primary: then → `default` (read-your-writes; replication lag is never visible
  to the client that wrote);
- the "has written" pin lives in a context variable: set by `db_for_write`, scoped to one request
  by `ReplicaPinMiddleware` and to one Celery task by the task_prerun/postrun handlers below; a
  task starts pinned (it usually follows up a commit that a lagging replica may not have yet);
- relations across aliases are allowed (they are the same data); migrations run on `default` only
  (replicas receive the schema through replication).

Replicas should connect with a read-only account, so that a misrouted write fails instead of
silently diverging.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
from collections.abc import Callable, Iterator, Sequence

from django.conf import settings
from django.db import connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

_written: contextvars.ContextVar[bool] = contextvars.ContextVar("db_router_written", default=False)


def pinned_to_primary() -> bool:
    """True when the current request/task has written, so its reads go to the primary."""
    return _written.get()


def pin_to_primary() -> None:
    """Send every further read of the current request/task to the primary."""
    _written.set(True)


@contextlib.contextmanager
def replica_scope() -> Iterator[None]:
    """A fresh routing scope (one request or task): unpinned on entry, previous state restored on exit."""
    token = _written.set(False)
    try:
        yield
    finally:
        _written.reset(token)


class ReplicaRouter:
    """Database router: writes to the primary, reads to a replica unless pinned to the primary.

    `ReplicaRouter()` (how `DATABASE_ROUTERS` builds it) uses `default` and every alias of
    `settings.DATABASES` named `replica<N>`; `ReplicaRouter(primary=..., replicas=[...])` names
    them explicitly (tests, or a deployment with other alias names).
    """

    def __init__(self, primary: str = "default", replicas: Sequence[str] | None = None) -> None:
        self.primary = primary
        if replicas is None:
            replicas = sorted(
                (alias for alias in settings.DATABASES if alias.startswith("replica")),
                key=lambda alias: (len(alias), alias),
            )
        self.replicas: list[str] = list(replicas)
        self._aliases = {primary, *self.replicas}

    def _primary_in_transaction(self) -> bool:
        # only look at a connection this thread already opened: never open one to find out
        conn = connections[self.primary]
        return conn.connection is not None and conn.in_atomic_block

    def db_for_read(self, model: type[Model], **hints) -> str:
        """Alias for a read of `model`: the primary when pinned or inside a primary transaction,
        the alias an instance hint already lives on, else a random replica."""
        if not self.replicas or pinned_to_primary() or self._primary_in_transaction():
            return self.primary
        instance = hints.get("instance")
        if instance is not None and instance._state.db in self._aliases:
            return instance._state.db
        return random.choice(self.replicas)  # load spreading, not security

    def db_for_write(self, model: type[Model], **hints) -> str:
        """Always the primary; pins the current request/task's later reads to it."""
        pin_to_primary()
        return self.primary

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool | None:
        """Objects on the primary and its replicas may relate (same data); others: no opinion."""
        if obj1._state.db in self._aliases and obj2._state.db in self._aliases:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints
    ) -> bool:
        """Migrate the primary only; replicas get the schema by replication."""
        return db == self.primary


class ReplicaPinMiddleware:
    """Scope the router's "has written" pin to one request (installed with the replicas).

    Without it, a sync worker thread that wrote once would read from the primary forever.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with replica_scope():
            return self.get_response(request)


_task_scopes: dict[str, contextvars.Token[bool]] = {}


def _task_started(task_id: str | None = None, **_kwargs) -> None:
    # pinned from the start: a task is usually queued on commit of the write it follows up (mail,
    # index, payment), which a lagging replica may not have yet
    if task_id:
        _task_scopes[task_id] = _written.set(True)


def _task_finished(task_id: str | None = None, **_kwargs) -> None:
    token = _task_scopes.pop(task_id or "", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # token from another context: nothing to restore
            _written.reset(token)


with contextlib.suppress(ImportError):
    # Celery: one scope per task. An eager task run inside a request restores the request's pin.
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="utils.db_router.prerun")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="utils.db_router.postrun")
