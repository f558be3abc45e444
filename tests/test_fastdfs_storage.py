"""`utils.fastdfs.FastDFSStorage` over TCP: the real py3Fdfs client against `tests.fdfs_server`."""

import logging
import socket
import threading

import pytest
from django.core.files.base import ContentFile

from tests import fdfs_server as fdfs
from tests.fdfs_server import FastDFSTestServer
from utils.exceptions import StorageUnavailable
from utils.fastdfs import FastDFSStorage, tracker_configs

fdfs_server = fdfs.fdfs_server  # the session fixture, used by name below
PNG_LIKE = bytes(range(256)) * 40 + b"\x00tail"  # 10 245 bytes, every byte value


def _storage(server: FastDFSTestServer) -> FastDFSStorage:
    conf = server.settings()
    return FastDFSStorage(
        trackers=conf["FASTDFS_TRACKERS"],
        timeout=conf["FASTDFS_TIMEOUT"],
        base_url=conf["FASTDFS_BASE_URL"],
    )


def test_upload_read_back_size_url_delete(fdfs_server):
    storage = _storage(fdfs_server)

    file_id = storage.save("avatar.PNG", ContentFile(PNG_LIKE))

    group, m00, d1, d2, filename = file_id.split("/")
    assert (group, m00) == ("group1", "M00")
    assert len(d1) == len(d2) == 2
    assert filename.endswith(".png")
    assert len(filename) == 27 + len(".png")
    assert fdfs_server.content(file_id) == PNG_LIKE  # bytes reached the server unchanged
    with storage.open(file_id) as fh:
        assert fh.read() == PNG_LIKE
    assert storage.size(file_id) == len(PNG_LIKE)
    assert storage.exists(file_id)
    assert storage.url(file_id) == f"http://files.example.test/{file_id}"

    storage.delete(file_id)

    assert fdfs_server.content(file_id) is None
    assert storage.exists(file_id) is False
    with pytest.raises(FileNotFoundError):
        storage.size(file_id)
    with pytest.raises(FileNotFoundError):
        storage.open(file_id)
    storage.delete(file_id)  # already gone: no error (Django's delete contract)


def test_each_save_gets_its_own_server_chosen_id(fdfs_server):
    storage = _storage(fdfs_server)
    first = storage.save("same.jpg", ContentFile(b"one"))
    second = storage.save("same.jpg", ContentFile(b"one"))
    assert first != second
    assert storage.get_available_name("same.jpg") == "same.jpg"
    storage.delete(first)
    storage.delete(second)


def test_client_speaks_the_expected_commands(fdfs_server):
    storage = _storage(fdfs_server)
    fdfs_server.calls.clear()
    file_id = storage.save("x.gif", ContentFile(b"GIF89a"))
    storage.exists(file_id)
    storage.open(file_id).read()
    storage.delete(file_id)
    assert fdfs_server.calls == [
        ("tracker", 101), ("storage", 11),  # query store without group, upload
        ("tracker", 102), ("storage", 22),  # query fetch, query file info
        ("tracker", 102), ("storage", 14),  # query fetch, download
        ("tracker", 103), ("storage", 12),  # query update, delete
    ]  # fmt: skip


def test_exists_false_for_unknown_group_and_malformed_id(fdfs_server):
    storage = _storage(fdfs_server)
    assert storage.exists("group9/M00/00/00/nothere.png") is False
    assert storage.exists("no-slash") is False


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://cdn.test", "http://cdn.test/group1/M00/00/00/a.png"),
        ("http://cdn.test/", "http://cdn.test/group1/M00/00/00/a.png"),
        ("http://cdn.test/files//", "http://cdn.test/files/group1/M00/00/00/a.png"),
        ("", "/group1/M00/00/00/a.png"),
    ],
)
def test_url_joins_with_exactly_one_slash(base, expected):
    storage = FastDFSStorage(trackers=["127.0.0.1:1"], timeout=1, base_url=base)
    assert storage.url("group1/M00/00/00/a.png") == expected
    assert storage.url("/group1/M00/00/00/a.png") == expected


def test_tracker_config_keeps_each_port():
    configs = tracker_configs(["10.0.0.1:22122", "10.0.0.2:22123"], 3)
    assert [(c["host_tuple"], c["port"], c["timeout"]) for c in configs] == [
        (("10.0.0.1",), 22122, 3),
        (("10.0.0.2",), 22123, 3),
    ]
    with pytest.raises(ValueError, match="host:port"):
        tracker_configs(["10.0.0.1"], 3)


def test_storage_down_raises_storage_unavailable_with_a_log_line(fdfs_server, caplog):
    storage = _storage(fdfs_server)
    kept = storage.save("kept.png", ContentFile(b"kept"))
    caplog.set_level(logging.ERROR, logger="utils.fastdfs")
    with fdfs_server.down():
        with pytest.raises(StorageUnavailable) as exc:
            storage.save("new.png", ContentFile(b"new"))
        for call in (storage.exists, storage.size, storage.open, storage.delete):
            with pytest.raises(StorageUnavailable):
                call(kept)
    assert exc.value.status_code == 503
    assert "fastdfs upload new.png failed" in caplog.text
    assert "Connection refused" in caplog.text or "refused" in caplog.text.lower()
    assert storage.exists(kept)  # back up: same ports, file still there
    storage.delete(kept)


def test_second_tracker_is_used_when_the_first_refuses(fdfs_server):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    storage = FastDFSStorage(
        trackers=[f"127.0.0.1:{dead}", f"127.0.0.1:{fdfs_server.tracker_port}"], timeout=2
    )
    file_id = storage.save("b.txt", ContentFile(b"failover"))
    assert fdfs_server.content(file_id) == b"failover"
    storage.delete(file_id)


def test_silent_server_times_out_as_storage_unavailable():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts (backlog) but never answers
    try:
        storage = FastDFSStorage(trackers=[f"127.0.0.1:{listener.getsockname()[1]}"], timeout=0.5)
        with pytest.raises(StorageUnavailable):
            storage.save("t.png", ContentFile(b"x"))
    finally:
        listener.close()


def test_server_closing_mid_answer_is_storage_unavailable_not_a_hang():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def half_answer():
        conn, _ = listener.accept()
        conn.recv(10)
        conn.sendall(b"\x00\x00\x00\x00\x00\x00\x00\x28\x64\x00" + b"group1")  # promises 40 bytes
        conn.close()

    thread = threading.Thread(target=half_answer, daemon=True)
    thread.start()
    try:
        storage = FastDFSStorage(trackers=[f"127.0.0.1:{listener.getsockname()[1]}"], timeout=2)
        with pytest.raises(StorageUnavailable):
            storage.save("t.png", ContentFile(b"x"))
    finally:
        thread.join(5)
        listener.close()
