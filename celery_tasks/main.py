"""The Celery app: settings from Django (`CELERY_*`), JSON only, tasks from every app.

Run a worker: `celery -A celery_tasks.main worker -Q default,mail,search,payment`;
beat: `celery -A celery_tasks.main beat` (schedule in `celery_tasks/beat.py`).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stsys")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from celery_tasks.beat import BEAT_SCHEDULE  # noqa: E402

app.conf.beat_schedule = BEAT_SCHEDULE
