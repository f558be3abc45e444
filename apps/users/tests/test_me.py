"""/api/users/me/ and avatar uploads (API.md §2.1, §1.8)."""

import io
import os

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from apps.users.tests.factories import UserFactory
from utils.exceptions import StorageUnavailable

AVATAR = "/api/users/me/avatar/"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def image_file(fmt="PNG", size=(600, 400), name="a.png", mode="RGB") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None).save(buffer, format=fmt)
    buffer.seek(0)
    buffer.name = name
    return buffer


@pytest.mark.django_db
def test_me_get_shape_and_no_store(client_for):
    user = UserFactory(first_name="A")
    response = client_for(user).get("/api/users/me/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert set(response.json()) == {
        "id", "username", "email", "first_name", "last_name", "mobile", "avatar",
        "role", "groups", "is_active", "date_joined",
    }  # fmt: skip
    assert response.json()["role"] == "user"


@pytest.mark.django_db
def test_me_patch_changes_only_allowed_fields(client_for):
    user = UserFactory()
    response = client_for(user).patch(
        "/api/users/me/",
        {
            "first_name": "Ann",
            "mobile": "13912345678",
            "is_staff": True,
            "is_superuser": True,
            "username": "hijack",
            "is_active": False,
        },
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.mobile) == ("Ann", "13912345678")
    assert not user.is_staff
    assert not user.is_superuser
    assert user.username != "hijack"
    assert user.is_active


@pytest.mark.django_db
@pytest.mark.parametrize("mobile", ["12345678901", "1391234567", "139123456789", "abc"])
def test_me_patch_rejects_bad_mobile(client_for, mobile):
    response = client_for(UserFactory()).patch("/api/users/me/", {"mobile": mobile})
    assert response.status_code == 400
    assert set(response.json()) == {"mobile"}


@pytest.mark.django_db
def test_me_put_is_405(client_for):
    assert client_for(UserFactory()).put("/api/users/me/", {}).status_code == 405


@pytest.mark.django_db
def test_avatar_real_png_is_stored_256x256(client_for, django_capture_on_commit_callbacks):
    user = UserFactory()
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(AVATAR, {"file": image_file()}, format="multipart")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    url = response.json()["avatar"]
    assert url.startswith("http://testserver/media/avatars/")
    user.refresh_from_db()
    assert user.avatar.name.endswith(".png")
    with default_storage.open(user.avatar.name) as stored:
        image = Image.open(stored)
        assert (image.format, image.size) == ("PNG", (256, 256))


@pytest.mark.django_db
def test_avatar_jpeg_stays_jpeg_and_old_file_is_deleted_after_commit(
    client_for, django_capture_on_commit_callbacks
):
    user = UserFactory()
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(AVATAR, {"file": image_file()}, format="multipart")
    user.refresh_from_db()
    old = user.avatar.name
    assert default_storage.exists(old)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            AVATAR, {"file": image_file("JPEG", (300, 900), "b.jpg")}, format="multipart"
        )
    assert response.status_code == 200
    deletions = [cb for cb in callbacks if "delete_stored_file" in repr(cb)]
    assert len(deletions) == 1  # the old file, once (the other callback drops the auth cache)
    user.refresh_from_db()
    assert user.avatar.name.endswith(".jpg")
    assert not default_storage.exists(old)
    with default_storage.open(user.avatar.name) as stored:
        assert Image.open(stored).size == (256, 256)


@pytest.mark.django_db
def test_avatar_text_file_named_png_is_400(client_for):
    fake = io.BytesIO(b"hello, I am not an image" * 10)
    fake.name = "evil.png"
    response = client_for(UserFactory()).post(AVATAR, {"file": fake}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["Upload a valid image."]}


@pytest.mark.django_db
def test_avatar_3mb_image_is_400(client_for):
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3)).save(
        buffer, format="PNG", compress_level=0
    )
    assert buffer.tell() > 3 * 1000 * 1000
    buffer.seek(0)
    buffer.name = "big.png"
    response = client_for(UserFactory()).post(AVATAR, {"file": buffer}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["File too large (max 2 MB)."]}


@pytest.mark.django_db
def test_avatar_rejects_other_formats_and_huge_dimensions(client_for):
    client = client_for(UserFactory())
    bmp = image_file("BMP", (50, 50), "a.bmp")
    assert client.post(AVATAR, {"file": bmp}, format="multipart").status_code == 400
    huge = image_file("PNG", (5000, 10), "wide.png", mode="1")
    response = client.post(AVATAR, {"file": huge}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["Upload a valid image."]}


@pytest.mark.django_db
def test_avatar_truncated_png_is_400(client_for):
    data = image_file().getvalue()
    broken = io.BytesIO(data[: len(data) // 2])
    broken.name = "half.png"
    response = client_for(UserFactory()).post(AVATAR, {"file": broken}, format="multipart")
    assert response.status_code == 400


@pytest.mark.django_db
def test_avatar_json_body_is_415(client_for):
    response = client_for(UserFactory()).post(AVATAR, {"file": "x"}, format="json")
    assert response.status_code == 415


@pytest.mark.django_db
@pytest.mark.parametrize("error", [StorageUnavailable(), OSError("tracker down")])
def test_avatar_storage_down_is_503_and_keeps_old(client_for, monkeypatch, error):
    user = UserFactory(avatar="avatars/old.png")

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(default_storage, "save", fail)
    response = client_for(user).post(AVATAR, {"file": image_file()}, format="multipart")
    assert response.status_code == 503
    assert response.json()["detail"] == "File storage is temporarily unavailable."
    user.refresh_from_db()
    assert user.avatar.name == "avatars/old.png"


def test_normalise_keeps_transparency_as_png_and_gif_first_frame():
    from utils.images import normalise, validate_image_upload

    rgba = image_file("PNG", (40, 80), mode="RGBA")
    out = normalise(validate_image_upload(rgba))
    assert (out.ext, out.width, out.height) == ("png", 256, 256)
    assert Image.open(io.BytesIO(out.content)).mode == "RGBA"
    gif = image_file("GIF", (30, 30), "a.gif")
    assert normalise(validate_image_upload(gif), size=None).ext == "png"
