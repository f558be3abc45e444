"""End to end: enrolment → real Celery worker → SMTP → set-password link → login (API.md §2.2, §2.1).

Runs on MariaDB + Redis with a real `celery worker` process (root conftest `celery_worker`) that
delivers to an aiosmtpd sink. Under CI a missing service fails the test; elsewhere it is skipped.
"""

import io
import re
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import authenticate

from apps.school.tests.factories import ClassesFactory
from apps.users.models import User
from apps.users.tests.factories import TeacherFactory

WORKER_LOG = Path(settings.BASE_DIR) / "var" / "log" / "celery-test-worker.log"
NEW_PASSWORD = "Zx-9-long-enough-pass"  # a test password


def _body(message: Message) -> str:
    """The decoded text of a (possibly multipart, base64/QP-encoded) mail."""
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            texts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(texts)


def _link_params(body: str) -> dict[str, str]:
    match = re.search(r"https?://\S+/set-password\?\S+", body)
    assert match, body
    query = parse_qs(urlsplit(match.group(0)).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}


@pytest.mark.services("mariadb", "redis", "worker", "smtp")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mariadb", "redis_required")
def test_enrolment_mails_a_working_one_time_link(
    client_for, api_client, celery_worker, smtp_sink, caplog
):
    teacher = TeacherFactory(username="mail_teacher")
    klass = ClassesFactory(user=teacher, name="邮件班")
    usernames = [f"mailkid{i}" for i in range(5)]
    rows = [{"username": u, "email": f"{u}@example.com", "last_name": "王"} for u in usernames]
    already = len(smtp_sink.messages)

    response = client_for(teacher).post(
        f"/api/school/classes/{klass.pk}/enrol/", {"students": rows}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"created": 5, "added": 0, "already_member": 0}
    messages = smtp_sink.wait_for(already + 5, timeout=60)[already:]
    assert len(messages) == 5, "the worker did not deliver one mail per new student"
    by_recipient = {m["To"]: m for m in messages}
    assert sorted(by_recipient) == sorted(f"{u}@example.com" for u in usernames)

    tokens = []
    for username in usernames:
        user = User.objects.get(username=username)
        assert not user.has_usable_password()
        body = _body(by_recipient[f"{username}@example.com"])
        assert "邮件班" in body
        assert user.password not in body  # not even the unusable-password marker
        params = _link_params(body)
        tokens.append(params["token"])

        done = api_client.post(
            "/api/users/password/set/", {**params, "new_password": NEW_PASSWORD}, format="json"
        )
        again = api_client.post(
            "/api/users/password/set/",
            {**params, "new_password": NEW_PASSWORD + "x"},
            format="json",
        )

        assert done.status_code == 204, done.content
        assert authenticate(username=username, password=NEW_PASSWORD) == user
        assert again.status_code == 400
        assert list(again.json()) == ["token"]
        assert authenticate(username=username, password=NEW_PASSWORD + "x") is None

    # no password (nor link token) in any mail, worker log or application log
    worker_log = WORKER_LOG.read_text(encoding="utf-8", errors="replace")
    app_log = caplog.text
    mails = "\n".join(_body(m) for m in messages)
    assert "set-password mail sent" in worker_log  # the log we search is the worker's
    for secret in [NEW_PASSWORD, *tokens]:
        assert secret not in worker_log
        assert secret not in app_log
    assert NEW_PASSWORD not in mails
    assert not re.search(r"(密码|password)\s*[:：]\s*\S", mails, flags=re.IGNORECASE)


@pytest.mark.services("mariadb", "redis", "worker", "smtp")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mariadb", "redis_required")
def test_large_enrolment_fans_out_one_mail_per_student(client_for, celery_worker, smtp_sink):
    """From FAN_OUT_MIN new users the worker publishes the per-user tasks: still one mail each."""
    from apps.school.services import FAN_OUT_MIN

    teacher = TeacherFactory(username="fan_teacher")
    klass = ClassesFactory(user=teacher, name="大班")
    count = FAN_OUT_MIN + 10
    lines = "".join(f"fan{i:03d},fan{i:03d}@example.com\n" for i in range(count))
    upload = io.BytesIO(("username,email\n" + lines).encode("utf-8"))
    upload.name = "big.csv"
    already = len(smtp_sink.messages)

    response = client_for(teacher).post(
        f"/api/school/classes/{klass.pk}/enrol/", {"file": upload}, format="multipart"
    )

    assert response.json() == {"created": count, "added": 0, "already_member": 0}
    messages = smtp_sink.wait_for(already + count, timeout=90)[already:]
    recipients = sorted(m["To"] for m in messages)
    assert recipients == sorted(f"fan{i:03d}@example.com" for i in range(count))
    worker_log = WORKER_LOG.read_text(encoding="utf-8", errors="replace")
    assert "apps.school.tasks.send_set_password_mails" in worker_log
