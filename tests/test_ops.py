"""Ops endpoints and the shared error shape (API.md §1.5, §2.1)."""

import pytest


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
    assert response.status_code == 200
    assert body["status"] in ("ok", "degraded")


def test_schema_is_served_offline(api_client, db):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
