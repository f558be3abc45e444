"""Review findings in the users app: each test failed on the code before its fix."""

import io
import struct
import zlib

import pytest
from django.test import RequestFactory
from PIL import Image
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users.tests.factories import UserFactory
from apps.users.tests.test_me import AVATAR

ME = "/api/users/me/"
REFRESH = "/api/users/login/refresh/"


def test_client_ip_is_the_peer_address_when_no_proxy_is_configured():
    """NUM_PROXIES 0 (the default): a client's own X-Forwarded-For must not pick its throttle
    bucket (each new header value was a fresh allowance for captcha and login)."""
    request = Request(
        RequestFactory().get("/", HTTP_X_FORWARDED_FOR="10.0.0.7", REMOTE_ADDR="192.0.2.1")
    )
    assert BaseThrottle().get_ident(request) == "192.0.2.1"


def _upload(name: str, build) -> io.BytesIO:
    buffer = io.BytesIO()
    build(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


@pytest.mark.django_db
def test_avatar_with_an_unreadable_exif_block_is_stored_not_a_500(client_for):
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    def build(buffer):
        plain = io.BytesIO()
        Image.new("RGB", (50, 50), (10, 120, 200)).save(plain, format="PNG")
        data = plain.getvalue()
        at = data.index(b"IDAT") - 4  # an eXIf chunk must come before the image data
        buffer.write(data[:at] + chunk(b"eXIf", b"garbage") + data[at:])

    response = client_for(UserFactory()).post(
        AVATAR, {"file": _upload("a.png", build)}, format="multipart"
    )

    assert response.status_code == 200
    assert response.json()["avatar"].endswith(".png")


@pytest.mark.django_db
def test_a_phone_jpeg_with_a_second_image_mpo_is_accepted_as_jpeg(client_for):
    def build(buffer):
        first = Image.new("RGB", (64, 48), (200, 30, 30))
        second = Image.new("RGB", (32, 24), (30, 200, 30))
        first.save(buffer, format="MPO", save_all=True, append_images=[second])

    upload = _upload("a.jpg", build)
    assert Image.open(upload).format == "MPO"
    upload.seek(0)

    response = client_for(UserFactory()).post(AVATAR, {"file": upload}, format="multipart")

    assert response.status_code == 200
    assert response.json()["avatar"].endswith(".jpg")


@pytest.mark.django_db
@pytest.mark.parametrize("mobile", ["13٠١٢٣٤٥٦٧٨", "１３８００００００００", "138000000٠٠"])
def test_mobile_takes_ascii_digits_only(client_for, mobile):
    response = client_for(UserFactory()).patch(ME, {"mobile": mobile}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"mobile"}


@pytest.mark.django_db
def test_refresh_token_of_a_deleted_user_is_401_not_500(api_client):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}


@pytest.mark.django_db
def test_address_update_from_a_stale_copy_keeps_one_default():
    """Two requests: one makes B the default, the other edits A from a copy read before."""
    from apps.users import services
    from apps.users.models import Address
    from apps.users.tests.factories import AddressFactory

    user = UserFactory()
    a = AddressFactory(user=user, is_default=True)
    b = AddressFactory(user=user, is_default=False)
    stale_a = Address.objects.get(pk=a.pk)

    services.address_update(address=b, is_default=True)
    services.address_update(address=stale_a, receiver="x")

    assert list(
        Address.objects.filter(user=user, is_default=True).values_list("pk", flat=True)
    ) == [b.pk]
    assert Address.objects.get(pk=a.pk).receiver == "x"


@pytest.mark.django_db
def test_address_update_of_an_address_deleted_meanwhile_is_404_and_keeps_it_deleted():
    from django.http import Http404

    from apps.users import services
    from apps.users.models import Address
    from apps.users.tests.factories import AddressFactory

    address = AddressFactory(is_default=False)
    stale = Address.objects.get(pk=address.pk)
    services.address_delete(address=address)

    with pytest.raises(Http404):
        services.address_update(address=stale, receiver="y")
    assert Address.objects.get(pk=address.pk).is_delete


@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_rotates_once_under_concurrency(mariadb, monkeypatch):
    """Both requests pass simplejwt's blacklist check before either writes the blacklist (held
    there by a barrier); only one may get new tokens. With the lock, the second waits until
    the first committed, its barrier times out, and it then sees the token blacklisted."""
    import contextlib
    import threading

    from django.db import connection
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import BlacklistMixin

    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    barrier = threading.Barrier(2, timeout=3)
    original = BlacklistMixin.check_blacklist

    def check_then_wait(self):
        original(self)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    monkeypatch.setattr(BlacklistMixin, "check_blacklist", check_then_wait)
    statuses: list[int] = []
    lock = threading.Lock()

    def refresh_once() -> None:
        try:
            response = APIClient().post(REFRESH, {"refresh": refresh}, format="json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200, 401]
