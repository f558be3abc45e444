"""Review findings in background and operational code: each test failed before its fix."""

from datetime import timedelta

import pytest

from apps.work import services
from apps.work.models import Topic
from apps.work.tests.factories import EssayTopicFactory
from celery_tasks.main import app as celery_app


@pytest.mark.django_db
def test_topic_delete_moves_update_time_so_a_running_rebuild_catches_it():
    topic = EssayTopicFactory()
    Topic.objects.filter(pk=topic.pk).update(update_time=topic.update_time - timedelta(hours=1))
    before = Topic.objects.get(pk=topic.pk).update_time

    services.topic_delete(topic=topic)

    deleted = Topic.objects.get(pk=topic.pk)
    assert deleted.is_delete
    assert deleted.update_time > before
    stamp = deleted.update_time
    services.topic_delete(topic=deleted)  # a repeat changes nothing
    assert Topic.objects.get(pk=topic.pk).update_time == stamp


def test_celery_keeps_the_projects_logging():
    """Celery's own set-up would otherwise replace the root handlers of LOGGING in workers."""
    assert celery_app.conf.worker_hijack_root_logger is False


def test_settings_read_a_docker_secret_file_without_the_entrypoint(tmp_path):
    """Healthchecks and `docker compose exec` do not run docker/entrypoint.sh: the settings must
    read `SECRET_KEY_FILE` themselves (else DEBUG=false cannot even load them)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    secret = tmp_path / "secret_key"
    secret.write_text("s3cret-from-a-file-" + "x" * 40)
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "TESTING")}
    env.update(DEBUG="false", SECRET_KEY_FILE=str(secret), DJANGO_SETTINGS_MODULE="config.settings")
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == secret.read_text()


@pytest.mark.django_db
def test_load_demo_refuses_to_run_with_debug_off(settings):
    from django.core.management import CommandError, call_command

    from apps.users.models import User

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo", "--topics", "0")
    assert not User.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_readyz_answers_in_time_while_the_database_check_hangs(api_client, monkeypatch):
    """A hung check must neither delay the answer past the deadline nor use up the threads that
    later calls need for the other checks (they were reported `fail` while fine)."""
    import threading
    import time

    from config import ops

    release = threading.Event()

    def hang() -> None:
        release.wait(10)

    monkeypatch.setattr(ops, "CHECK_TIMEOUT", 0.3)
    monkeypatch.setitem(ops.CHECKS, "database", (hang, True))
    try:
        for _ in range(6):
            began = time.monotonic()
            response = api_client.get("/readyz")
            assert time.monotonic() - began < 1.5
            assert response.status_code == 503
            checks = response.json()["checks"]
            assert checks["database"] == "fail"
            assert checks["cache"] == "ok"
    finally:
        release.set()
