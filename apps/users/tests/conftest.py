"""Helpers for the users app tests: peek at a stored captcha, log in through the API."""

import uuid

import pytest
from django.core.cache import caches

from apps.users import services
from apps.users.tests.factories import DEFAULT_PASSWORD


def stored_code(key_uuid: str) -> str | None:
    """The captcha code stored for `key_uuid` (read without consuming it)."""
    key = services.CAPTCHA_KEY.format(uuid=key_uuid)
    client = services._redis_client()
    if client is None:
        return caches[services.CAPTCHA_ALIAS].get(key)
    raw = client.get(key)
    return None if raw is None else raw.decode()


@pytest.fixture
def issue_captcha(api_client):
    """`issue_captcha()` → (uuid, code): fetch a captcha image through the API."""

    def issue() -> tuple[str, str]:
        key_uuid = str(uuid.uuid4())
        response = api_client.get(f"/api/users/image/verification/{key_uuid}/")
        assert response.status_code == 200
        return key_uuid, stored_code(key_uuid)

    return issue


@pytest.fixture
def login(api_client, issue_captcha):
    """`login(username, password=DEFAULT_PASSWORD)` → the login response (captcha solved)."""

    def do(username: str, password: str = DEFAULT_PASSWORD):
        key_uuid, code = issue_captcha()
        return api_client.post(
            "/api/users/login/",
            {"username": username, "password": password, "uuid": key_uuid, "verify": code},
            format="json",
        )

    return do
