"""Celery tasks of the users app: ids in, work in services; safe to run twice."""

import logging

from celery import shared_task
from django.core.mail import send_mail

from apps.users.models import User
from apps.users.services import set_password_link
from utils.mail import MAIL_TASK_RETRY

logger = logging.getLogger(__name__)


@shared_task(**MAIL_TASK_RETRY)
def send_set_password_mail(user_id: int, classes_id: int | None = None) -> bool:
    """Mail user `user_id` a one-time set-password link (built here, never queued).

    `classes_id` names the class they were enrolled into, for the greeting. Returns False (and
    sends nothing) when the user is gone, inactive, or already has a usable password.
    Retries SMTP/network errors with exponential backoff (max 8 tries).
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password() or not user.email:
        logger.info("set-password mail skipped for user %s", user_id)
        return False
    class_name = ""
    if classes_id is not None:
        from apps.school.models import Classes

        class_name = (
            Classes.objects.filter(pk=classes_id).values_list("name", flat=True).first() or ""
        )
    link = set_password_link(user=user)
    where = f"「{class_name}」" if class_name else ""
    body = (
        f"{user.username}，你好：\n\n你已被加入学习交流平台的班级{where}。"
        f"请在 72 小时内通过以下链接设置密码（链接只能使用一次）：\n\n{link}\n"
    )
    send_mail("学习交流平台：设置你的密码", body, None, [user.email])
    logger.info("set-password mail sent to user %s", user_id)
    return True


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def delete_stored_file(name: str) -> bool:
    """Delete file `name` from `default_storage` (e.g. a replaced avatar). Idempotent.

    Deleting a file that is already gone is a no-op; storage errors (OSError,
    `StorageUnavailable`) are retried with exponential backoff.
    """
    from django.core.files.storage import default_storage

    from utils.exceptions import StorageUnavailable

    try:
        default_storage.delete(name)
    except StorageUnavailable as exc:
        raise OSError(str(exc)) from exc
    logger.info("stored file deleted: %s", name)
    return True
