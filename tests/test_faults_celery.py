"""Fault: Celery worker down (issue 7 §4) — tasks wait in the broker and are delivered when a
worker returns; nothing is lost.

With the broker (Redis) up and no worker reading the queue, a teacher enrols 5 new students through
the API (transactional: the set-password mails are published on commit). The messages stay in the
broker (checked: queue length 5, no mail sent after a pause); then a real worker process starts
(function-scoped, code shared with the root `celery_worker` fixture via `tests.faults.worker`) and
every mail reaches the SMTP sink. Tasks from this process are routed to a queue of this test only,
so a session worker started by another test cannot take them.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from apps.school.tests.factories import ClassesFactory
from apps.users.tests.factories import TeacherFactory
from tests.faults.worker import eager, routed_to, start_worker, stop_worker, worker_env

STUDENTS = 5
LOG = Path(settings.BASE_DIR) / "var" / "log" / "celery-fault-worker.log"


@pytest.mark.services("mariadb", "redis", "worker", "smtp")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mariadb", "redis_required")
def test_tasks_published_while_no_worker_are_delivered_when_it_returns(client_for, smtp_sink):
    queue = f"fault-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    teacher = TeacherFactory(username="fault_celery_teacher")
    klass = ClassesFactory(user=teacher, name="断线班")
    usernames = [f"faultkid{i}" for i in range(STUDENTS)]
    rows = [{"username": u, "email": f"{u}@example.com", "last_name": "李"} for u in usernames]
    already = len(smtp_sink.messages)
    worker = None
    try:
        with eager(False), routed_to(queue):
            response = client_for(teacher).post(
                f"/api/school/classes/{klass.pk}/enrol/", {"students": rows}, format="json"
            )
            assert response.status_code == 200, response.content
            assert response.json()["created"] == STUDENTS

            # no worker: the tasks wait in the broker, nothing is delivered
            assert broker.llen(queue) == STUDENTS
            time.sleep(2)
            assert len(smtp_sink.messages) == already
            assert broker.llen(queue) == STUDENTS

            worker = start_worker(
                env=worker_env(smtp_port=smtp_sink.port),
                queues=queue,
                name=f"fault-{os.getpid()}",
                log_path=LOG,
            )
            messages = smtp_sink.wait_for(already + STUDENTS, timeout=60)[already:]
    finally:
        if worker is not None:
            stop_worker(worker)
        broker.delete(queue)
        broker.close()

    recipients = sorted(m["To"] for m in messages)
    assert recipients == sorted(f"{u}@example.com" for u in usernames), "mail lost or doubled"
