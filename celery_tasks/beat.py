"""Periodic tasks (Celery beat). Intervals are in seconds."""

BEAT_SCHEDULE: dict[str, dict] = {}
