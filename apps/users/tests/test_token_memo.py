"""The per-process memo of verified access tokens (`apps.users.authentication`): it skips the
signature check of a token seen before, and nothing else — expiry, signing key, user state."""

import time
from datetime import timedelta

import jwt
import pytest
from rest_framework_simplejwt.tokens import AccessToken

from apps.users import authentication
from apps.users.tests.factories import UserFactory

ME = "/api/users/me/"


@pytest.fixture
def decodes(monkeypatch):
    """Count PyJWT signature checks (every full validation decodes once)."""
    calls = []
    original = jwt.decode

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)  # simplejwt's backend calls `jwt.decode`
    monkeypatch.setattr(authentication, "_verified", authentication._VerifiedTokens(8))
    return calls


@pytest.mark.django_db
def test_a_verified_token_is_not_decoded_again(client_for, decodes):
    client = client_for(UserFactory())
    assert [client.get(ME).status_code for _ in range(3)] == [200] * 3
    assert len(decodes) == 1


@pytest.mark.django_db
def test_an_expired_token_is_rejected_even_when_remembered(decodes, api_client):
    token = AccessToken.for_user(UserFactory())
    token.set_exp(lifetime=timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get(ME).status_code == 200  # verified and remembered
    time.sleep(max(0.0, token["exp"] - time.time()) + 0.05)
    assert api_client.get(ME).status_code == 401
    assert len(decodes) == 2  # the memo let it go: simplejwt checked it again


@pytest.mark.django_db
def test_a_token_of_another_signing_key_is_not_reused(client_for, decodes, settings):
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(ME).status_code == 200
    claims = AccessToken(token).payload
    forged = jwt.encode(claims, "another key of at least thirty-two bytes", algorithm="HS256")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get(ME).status_code == 401


@pytest.mark.django_db
def test_a_remembered_token_of_a_deactivated_user_is_401(client_for, decodes):
    user = UserFactory()
    client = client_for(user)
    assert client.get(ME).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(ME).status_code == 401
    assert len(decodes) == 1
