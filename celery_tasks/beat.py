"""Periodic tasks (Celery beat). Intervals are in seconds."""

BEAT_SCHEDULE: dict[str, dict] = {}

# shopping: close unpaid orders past ORDER_PAY_TIMEOUT; trade-query started payments
BEAT_SCHEDULE["shopping-close-unpaid-orders"] = {
    "task": "apps.shopping.tasks.close_unpaid_orders",
    "schedule": 60.0,
}
BEAT_SCHEDULE["shopping-query-pending-payments"] = {
    "task": "apps.shopping.tasks.query_pending_payments",
    "schedule": 120.0,
}

# community: move pending article page views from Redis into article.page_view
BEAT_SCHEDULE["community-flush-page-views"] = {
    "task": "apps.community.tasks.flush_page_views",
    "schedule": 60.0,
}

# work (search): repair drift between the DB and the Elasticsearch topic index (no-op without ES)
BEAT_SCHEDULE["work-topic-reconcile"] = {
    "task": "apps.work.tasks.topic_reconcile_task",
    "schedule": 3600.0,
}

# community (search): repair drift between the DB and the Elasticsearch article index (no-op without ES)
BEAT_SCHEDULE["community-article-reconcile"] = {
    "task": "apps.community.tasks.article_reconcile_task",
    "schedule": 3600.0,
}
