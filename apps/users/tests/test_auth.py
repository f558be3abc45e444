"""Captcha, login, refresh, logout and set-password (API.md §2.1)."""

import io
import threading
import uuid

import pytest
import redis
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.users import services
from apps.users.tests.conftest import stored_code
from apps.users.tests.factories import DEFAULT_PASSWORD, StudentFactory, UserFactory
from apps.users.throttles import LoginThrottle
from utils.captcha import ALPHABET

LOGIN = "/api/users/login/"
REFRESH = "/api/users/login/refresh/"
LOGOUT = "/api/users/logout/"


def captcha_url(key: str) -> str:
    return f"/api/users/image/verification/{key}/"


# --- Captcha -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_captcha_is_a_140x40_png_with_a_stored_4_char_code(api_client):
    key = str(uuid.uuid4())
    response = api_client.get(captcha_url(key))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "no-store"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (140, 40))
    code = stored_code(key)
    assert len(code) == 4
    assert set(code) <= set(ALPHABET)
    assert not set("0Oo1lI") & set(ALPHABET)


@pytest.mark.django_db
def test_captcha_same_uuid_replaces_code(api_client, monkeypatch):
    codes = iter(["AAAA", "BBBB"])
    monkeypatch.setattr(services.captcha_draw, "generate_code", lambda: next(codes))
    key = str(uuid.uuid4())
    api_client.get(captcha_url(key))
    api_client.get(captcha_url(key))
    assert stored_code(key) == "BBBB"


@pytest.mark.django_db
def test_captcha_malformed_uuid_is_404(api_client):
    assert api_client.get(captcha_url("not-a-uuid")).status_code == 404


@pytest.mark.django_db
def test_captcha_redis_down_is_503(api_client, monkeypatch):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(services, "_redis_client", lambda: dead)
    response = api_client.get(captcha_url(str(uuid.uuid4())))
    assert response.status_code == 503
    assert response.json()["detail"] == "Cache is temporarily unavailable."


@pytest.mark.django_db
def test_login_redis_down_is_503_and_mints_nothing(api_client, monkeypatch):
    user = UserFactory()
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(services, "_redis_client", lambda: dead)
    body = {"username": user.username, "password": DEFAULT_PASSWORD}
    response = api_client.post(LOGIN, {**body, "uuid": str(uuid.uuid4()), "verify": "abcd"})
    assert response.status_code == 503
    assert not OutstandingToken.objects.exists()


@pytest.mark.django_db
def test_captcha_getdel_is_atomic_under_concurrency(redis_required, api_client):
    key = str(uuid.uuid4())
    api_client.get(captcha_url(key))
    code = stored_code(key)
    results: list[str | None] = []
    barrier = threading.Barrier(8)

    def consume() -> None:
        barrier.wait()
        results.append(services.captcha_consume(uuid=key))

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(code) == 1
    assert results.count(None) == 7


def test_captcha_uses_the_contract_key_in_redis(redis_required, api_client):
    from django_redis import get_redis_connection

    key = str(uuid.uuid4())
    api_client.get(captcha_url(key))
    conn = get_redis_connection("verify_codes")
    assert 0 < conn.ttl(f"login:verification:{key}") <= 180
    assert services.captcha_consume(uuid=key) is not None
    assert conn.exists(f"login:verification:{key}") == 0


# --- Login -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_returns_tokens_and_brief(login):
    user = StudentFactory()
    response = login(user.username)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "id", "username", "avatar", "role"}
    assert (body["id"], body["username"], body["avatar"], body["role"]) == (
        user.pk,
        user.username,
        None,
        "student",
    )
    user.refresh_from_db()
    assert user.last_login is not None
    assert OutstandingToken.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_bad_captcha_with_good_password_is_400_and_mints_no_token(api_client, issue_captcha):
    user = UserFactory()
    key, code = issue_captcha()
    wrong = "".join("b" if c.lower() != "b" else "c" for c in code)
    response = api_client.post(
        LOGIN,
        {"username": user.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": wrong},
    )
    assert response.status_code == 400
    assert response.json() == {"verify": ["Captcha is incorrect."]}
    assert not OutstandingToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.django_db
def test_captcha_is_case_insensitive(api_client, issue_captcha):
    user = UserFactory()
    key, code = issue_captcha()
    body = {"username": user.username, "password": DEFAULT_PASSWORD, "uuid": key}
    response = api_client.post(LOGIN, {**body, "verify": code.swapcase()})
    assert response.status_code == 200


@pytest.mark.django_db
def test_captcha_replay_is_rejected(api_client, issue_captcha):
    user = UserFactory()
    key, code = issue_captcha()
    body = {"username": user.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": code}
    assert api_client.post(LOGIN, body).status_code == 200
    second = api_client.post(LOGIN, body)
    assert second.status_code == 400
    assert second.json() == {"verify": ["Captcha expired, request a new one."]}


@pytest.mark.django_db
def test_wrong_answer_consumes_the_captcha(api_client, issue_captcha):
    user = UserFactory()
    key, code = issue_captcha()
    body = {"username": user.username, "password": DEFAULT_PASSWORD, "uuid": key}
    assert (
        api_client.post(LOGIN, {**body, "verify": "zzzz" if code != "zzzz" else "yyyy"}).status_code
        == 400
    )
    response = api_client.post(LOGIN, {**body, "verify": code})
    assert response.json() == {"verify": ["Captcha expired, request a new one."]}


@pytest.mark.django_db
def test_expired_captcha_is_rejected(api_client, monkeypatch):
    import time

    monkeypatch.setattr(services, "CAPTCHA_TTL", 1)
    user = UserFactory()
    key = str(uuid.uuid4())
    api_client.get(captcha_url(key))
    code = stored_code(key)
    time.sleep(1.3)
    body = {"username": user.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": code}
    response = api_client.post(LOGIN, body)
    assert response.status_code == 400
    assert response.json() == {"verify": ["Captcha expired, request a new one."]}


@pytest.mark.django_db
def test_field_validation_precedes_captcha_consumption(api_client, issue_captcha):
    key, code = issue_captcha()
    response = api_client.post(LOGIN, {"username": "x", "uuid": key, "verify": code})
    assert response.status_code == 400
    assert set(response.json()) == {"password"}
    assert stored_code(key) == code  # not consumed


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["unknown", "wrong_password", "inactive"])
def test_bad_credentials_are_401_with_one_message(login, case):
    user = UserFactory(is_active=case != "inactive")
    username = "nobody" if case == "unknown" else user.username
    password = "wrong-pass-1" if case == "wrong_password" else DEFAULT_PASSWORD
    response = login(username, password)
    assert response.status_code == 401
    assert response.json()["detail"] == "No active account found with the given credentials"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not OutstandingToken.objects.exists()


@pytest.mark.django_db
def test_login_throttle_429_with_retry_after(api_client, monkeypatch):
    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    for _ in range(2):
        assert api_client.post(LOGIN, {}).status_code == 400
    response = api_client.post(LOGIN, {})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
def test_refresh_shares_the_login_throttle_bucket(api_client, monkeypatch):
    monkeypatch.setattr(LoginThrottle, "rate", "1/min", raising=False)
    assert api_client.post(LOGIN, {}).status_code == 400
    assert api_client.post(REFRESH, {}).status_code == 429


# --- 401 shape ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_401_shape_and_bearer_challenge(api_client):
    response = api_client.get("/api/users/me/")
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_deactivated_users_access_token_is_401(client_for):
    user = UserFactory()
    client = client_for(user)
    assert client.get("/api/users/me/").status_code == 200
    user.is_active = False
    user.save()
    response = client.get("/api/users/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- Refresh and logout ------------------------------------------------------------------------


@pytest.mark.django_db
def test_refresh_rotates_and_blacklists_the_old_token(api_client, login):
    tokens = login(UserFactory().username).json()
    first = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != tokens["refresh"]
    replay = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_not_valid"
    assert api_client.post(REFRESH, {"refresh": first.json()["refresh"]}).status_code == 200


@pytest.mark.django_db
def test_refresh_missing_field_is_400(api_client):
    response = api_client.post(REFRESH, {})
    assert response.status_code == 400
    assert "refresh" in response.json()


@pytest.mark.django_db
def test_refresh_after_logout_is_401(api_client, login):
    tokens = login(UserFactory().username).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    api_client.credentials()
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401


@pytest.mark.django_db
def test_logout_twice_is_401(api_client, login):
    tokens = login(UserFactory().username).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 401


@pytest.mark.django_db
def test_logout_with_someone_elses_token_is_400(client_for):
    from rest_framework_simplejwt.tokens import RefreshToken

    mine, theirs = UserFactory(), UserFactory()
    foreign = RefreshToken.for_user(theirs)
    response = client_for(mine).post(LOGOUT, {"refresh": str(foreign)})
    assert response.status_code == 400
    assert set(response.json()) == {"refresh"}
    assert not OutstandingToken.objects.filter(user=theirs, blacklistedtoken__isnull=False).exists()


@pytest.mark.django_db
def test_logout_missing_field_is_400_and_anon_is_401(api_client, client_for):
    assert client_for(UserFactory()).post(LOGOUT, {}).status_code == 400
    assert api_client.post(LOGOUT, {"refresh": "x"}).status_code == 401


# --- Password change and set-password ----------------------------------------------------------


@pytest.mark.django_db
def test_password_change_blacklists_all_refresh_tokens(api_client, login, client_for):
    user = UserFactory()
    first = login(user.username).json()
    second = login(user.username).json()
    response = client_for(user).post(
        "/api/users/me/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password": "new-Strong-pass-77"},
    )
    assert response.status_code == 204
    for tokens in (first, second):
        assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    user.refresh_from_db()
    assert user.check_password("new-Strong-pass-77")


@pytest.mark.django_db
def test_password_change_checks_old_password_and_validators(client_for):
    user = UserFactory()
    client = client_for(user)
    wrong = client.post(
        "/api/users/me/password/", {"old_password": "nope", "new_password": "new-Strong-pass-77"}
    )
    assert wrong.status_code == 400
    assert set(wrong.json()) == {"old_password"}
    weak = client.post(
        "/api/users/me/password/", {"old_password": DEFAULT_PASSWORD, "new_password": "123"}
    )
    assert weak.status_code == 400
    assert set(weak.json()) == {"new_password"}


def _link_params(user) -> dict[str, str]:
    return {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


@pytest.mark.django_db
def test_set_password_link_works_once(api_client):
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    params = _link_params(user)
    url = "/api/users/password/set/"
    first = api_client.post(url, {**params, "new_password": "Fresh-pass-2024"})
    assert first.status_code == 204
    user.refresh_from_db()
    assert user.check_password("Fresh-pass-2024")
    second = api_client.post(url, {**params, "new_password": "Other-pass-2024"})
    assert second.status_code == 400
    assert second.json() == {"token": ["Invalid or expired link."]}


@pytest.mark.django_db
def test_set_password_link_from_the_service_round_trips(api_client):
    from urllib.parse import parse_qs, urlsplit

    user = UserFactory()
    user.set_unusable_password()
    user.save()
    query = parse_qs(urlsplit(services.set_password_link(user=user)).query)
    body = {"uid": query["uid"][0], "token": query["token"][0], "new_password": "Fresh-pass-2024"}
    assert api_client.post("/api/users/password/set/", body).status_code == 204


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["uid", "token"])
def test_set_password_bad_link_is_400(api_client, bad):
    user = UserFactory()
    params = _link_params(user)
    params[bad] = "garbage"
    response = api_client.post(
        "/api/users/password/set/", {**params, "new_password": "Fresh-pass-2024"}
    )
    assert response.status_code == 400
    assert response.json() == {"token": ["Invalid or expired link."]}


@pytest.mark.django_db
def test_set_password_runs_validators(api_client):
    user = UserFactory()
    response = api_client.post(
        "/api/users/password/set/", {**_link_params(user), "new_password": "12345678"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"new_password"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("throttle", "method", "url"),
    [
        ("CaptchaThrottle", "get", f"/api/users/image/verification/{uuid.uuid4()}/"),
        ("PasswordSetThrottle", "post", "/api/users/password/set/"),
    ],
)
def test_anon_scoped_throttles_are_ip_keyed(
    api_client, client_for, monkeypatch, throttle, method, url
):
    from apps.users import throttles

    monkeypatch.setattr(getattr(throttles, throttle), "rate", "2/min", raising=False)
    for _ in range(2):
        assert getattr(api_client, method)(url).status_code in (200, 400)
    # same IP, now authenticated: still the same bucket
    response = getattr(client_for(UserFactory()), method)(url)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    other_ip = getattr(api_client, method)(url, REMOTE_ADDR="10.9.9.9")
    assert other_ip.status_code in (200, 400)
