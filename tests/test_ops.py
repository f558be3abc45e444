"""Ops endpoints and the shared error shape (API.md §1.5, §2.1)."""

import pytest
from django.conf import settings


def test_healthz_answers_without_dependencies(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_check(api_client):
    response = api_client.get("/readyz")
    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "search", "broker"}
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    if settings.ELASTICSEARCH_URL:  # the real cluster started by make test
        assert body["checks"]["search"] == "ok"
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        assert body["checks"]["broker"] == "ok"
    assert response.status_code == 200
    assert body["status"] in ("ok", "degraded")


def test_schema_is_served_offline(api_client, db):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


@pytest.mark.django_db
def test_readyz_is_degraded_not_failed_when_search_is_down(api_client, settings):
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = api_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["search"] == "fail"


@pytest.mark.django_db
def test_readyz_fails_when_the_cache_is_down(api_client, settings):
    if not settings.REDIS_URL:
        pytest.skip("the embedded default's local-memory cache cannot be down")
    # Django's setting_changed handler rebuilds the cache connections for the new CACHES
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"},
    }
    response = api_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()["checks"]["cache"] == "fail"
