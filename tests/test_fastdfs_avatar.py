"""`POST /api/users/me/avatar/` with `FastDFSStorage` as the default storage, over TCP to the
wire-protocol test server (API.md §1.8, §2.1)."""

import io

import pytest
from django.core.files.storage import default_storage, storages
from django.utils.functional import empty
from PIL import Image

from apps.users.models import User
from tests import fdfs_server as fdfs
from utils.fastdfs import FastDFSStorage

pytestmark = pytest.mark.django_db
fdfs_server = fdfs.fdfs_server  # the session fixture, used by name below
AVATAR = "/api/users/me/avatar/"


def _png(color=(200, 30, 30), size=(300, 200)) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    buf.seek(0)
    buf.name = "me.png"
    return buf


def _reset_default_storage() -> None:
    storages._storages = {}
    storages._backends = None
    default_storage._wrapped = empty


@pytest.fixture
def fastdfs_default(settings, fdfs_server):
    """Make `default_storage` a FastDFSStorage pointing at the test server for one test."""
    for key, value in fdfs_server.settings().items():
        setattr(settings, key, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "utils.fastdfs.FastDFSStorage"},
    }
    _reset_default_storage()
    yield fdfs_server
    _reset_default_storage()


def _upload(client, data):
    return client.post(AVATAR, {"file": data}, format="multipart")


def test_avatar_is_stored_in_fastdfs(client_for, user, fastdfs_default):
    assert isinstance(storages["default"], FastDFSStorage)
    assert default_storage.url("group1/x") == "http://files.example.test/group1/x"
    before = set(fastdfs_default.file_ids())

    resp = _upload(client_for(user), _png())

    assert resp.status_code == 200, resp.content
    user.refresh_from_db()
    file_id = user.avatar.name
    assert file_id.startswith("group1/M00/")
    assert file_id.endswith(".png")
    assert set(fastdfs_default.file_ids()) - before == {file_id}
    assert resp.json()["avatar"] == f"http://files.example.test/{file_id}"
    stored = Image.open(io.BytesIO(fastdfs_default.content(file_id)))
    assert stored.format == "PNG"
    assert stored.size == (256, 256)


def test_replacing_the_avatar_deletes_the_old_file_after_commit(
    client_for, user, fastdfs_default, django_capture_on_commit_callbacks
):
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert _upload(client, _png()).status_code == 200
    user.refresh_from_db()
    old = user.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        assert _upload(client, _png(color=(0, 0, 255))).status_code == 200
    user.refresh_from_db()
    assert user.avatar.name != old
    assert fastdfs_default.content(old) is None
    assert fastdfs_default.content(user.avatar.name) is not None


def test_storage_down_is_503_and_keeps_the_old_avatar(client_for, user, fastdfs_default):
    client = client_for(user)
    assert _upload(client, _png()).status_code == 200
    user.refresh_from_db()
    old = user.avatar.name
    files_before = set(fastdfs_default.file_ids())

    with fastdfs_default.down():
        resp = _upload(client, _png(color=(0, 255, 0)))

    assert resp.status_code == 503
    assert resp.json()["detail"] == "File storage is temporarily unavailable."
    assert User.objects.get(pk=user.pk).avatar.name == old  # row unchanged
    assert fastdfs_default.content(old) is not None  # old file still stored
    assert set(fastdfs_default.file_ids()) == files_before  # no orphan from the failed request


def test_invalid_image_stores_nothing(client_for, user, fastdfs_default):
    files_before = set(fastdfs_default.file_ids())
    fake = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    fake.name = "evil.png"
    resp = _upload(client_for(user), fake)
    assert resp.status_code == 400
    assert "file" in resp.json()
    assert set(fastdfs_default.file_ids()) == files_before
    assert not User.objects.get(pk=user.pk).avatar
