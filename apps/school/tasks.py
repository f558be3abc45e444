"""Celery tasks of the school app: ids in, work in services; safe to run twice."""

import logging

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(BrokerError, OSError), retry_backoff=True, max_retries=5)
def send_set_password_mails(user_ids: list[int], classes_id: int) -> int:
    """Fan out one `send_set_password_mail(user_id, classes_id)` task per id; returns the count.

    Used by large enrolments so the request publishes one message instead of one per student.
    A redelivery may mail some students twice: each link stays single-use (the first password
    set invalidates every other link), and the per-user task skips users who have a password.
    """
    from apps.school.services import queue_set_password_mails

    queue_set_password_mails(user_ids, classes_id, fan_out=False)
    logger.info("queued %s set-password mails for classes %s", len(user_ids), classes_id)
    return len(user_ids)
