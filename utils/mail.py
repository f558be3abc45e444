"""Shared options of the Celery tasks that send mail."""

import smtplib

# SMTP and network errors are retried with exponential backoff (capped at 600 s), 8 tries at most.
MAIL_TASK_RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}
