"""A FastDFS tracker + storage server speaking the real wire protocol, for tests (written here).

Protocol source: FastDFS `tracker/tracker_proto.h` (command numbers, `TrackerHeader`),
`tracker/tracker_service.c` (query store/fetch/update answers) and `storage/storage_service.c`
(upload, download, delete, query file info) of happyfish100/fastdfs, and `doc/protocol` there;
cross-checked against what py3Fdfs 2.2 sends and parses (`fdfs_client/*.py`).

Every packet: a 10-byte header = body length (8 bytes, big-endian) + command (1) + status (1),
then the body. Answers use command 100 (`TRACKER_PROTO_CMD_RESP`); status is 0 or an errno
(2 = ENOENT for an unknown file). Strings are fixed-width and NUL-padded (group 16, IP 15/16).

Tracker (one port):
  101 QUERY_STORE_WITHOUT_GROUP_ONE  ()                     → group(16) ip(15) port(8) path_index(1)
  104 QUERY_STORE_WITH_GROUP_ONE     group(16)              → same 40 bytes
  102 QUERY_FETCH_ONE, 103 QUERY_UPDATE  group(16) filename → group(16) ip(15) port(8)
  111 ACTIVE_TEST → empty;  82 QUIT → close.
Storage (another port; files kept in memory):
  11 UPLOAD_FILE   path_index(1) size(8) ext(6) bytes(size) → group(16) filename
  14 DOWNLOAD_FILE offset(8) count(8, 0 = to end) group(16) filename → bytes
  12 DELETE_FILE   group(16) filename → empty (status 2 if unknown)
  22 QUERY_FILE_INFO group(16) filename → size(8) create_timestamp(8) crc32(8) source_ip(16)
File names look like real ones: `M00/<2 hex>/<2 hex>/<27-char base64 of ip, time, size, crc32>.<ext>`.

`FastDFSTestServer().start()` binds free ports on 127.0.0.1; `.stop()` closes both listeners
(connections are then refused, as when FastDFS is down); `.start()` again reuses the ports.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

HEADER = struct.Struct("!QBB")
RESP = 100
GROUP_LEN = 16
IP_LEN = 16
ENOENT = 2
EINVAL = 22

TRACKER_QUERY_STORE_WITHOUT_GROUP_ONE = 101
TRACKER_QUERY_FETCH_ONE = 102
TRACKER_QUERY_UPDATE = 103
TRACKER_QUERY_STORE_WITH_GROUP_ONE = 104
STORAGE_UPLOAD_FILE = 11
STORAGE_DELETE_FILE = 12
STORAGE_DOWNLOAD_FILE = 14
STORAGE_QUERY_FILE_INFO = 22
CMD_QUIT = 82
CMD_ACTIVE_TEST = 111


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 65536))
        if not chunk:
            raise ConnectionError("client closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _pad(value: str | bytes, width: int) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return raw[:width].ljust(width, b"\0")


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        while True:
            try:
                head = _recv_exact(sock, HEADER.size)
            except (ConnectionError, OSError):
                return
            length, cmd, _status = HEADER.unpack(head)
            if cmd == CMD_QUIT:
                return
            try:
                status, body = self.server.owner.dispatch(self.server.role, cmd, sock, length)
            except (ConnectionError, OSError):
                return
            sock.sendall(HEADER.pack(len(body), RESP, status) + body)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], owner: FastDFSTestServer, role: str) -> None:
        self.owner = owner
        self.role = role
        super().__init__(addr, _Handler)


class FastDFSTestServer:
    """One tracker and one storage server (group `group1`) on 127.0.0.1, in threads.

    `files`: `{"M00/..": (bytes, create_timestamp)}`; `file_ids()` → `["group1/M00/..", ...]`.
    `calls`: list of `(role, cmd)` received, for assertions on what the client spoke.
    """

    group = "group1"
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, int]] = {}
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.tracker_port = 0
        self.storage_port = 0
        self._servers: list[_Server] = []
        self._seq = 0

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FastDFSTestServer:
        """Listen (free ports the first time, the same ports afterwards) and serve in threads."""
        tracker = _Server((self.host, self.tracker_port), self, "tracker")
        storage = _Server((self.host, self.storage_port), self, "storage")
        self.tracker_port = tracker.server_address[1]
        self.storage_port = storage.server_address[1]
        self._servers = [tracker, storage]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused until `start()`."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    @property
    def running(self) -> bool:
        return bool(self._servers)

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """`with server.down(): ...` — FastDFS unreachable inside the block."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def settings(self) -> dict[str, Any]:
        """Django settings for `utils.fastdfs.FastDFSStorage` pointing at this server."""
        return {
            "FASTDFS_TRACKERS": [f"{self.host}:{self.tracker_port}"],
            "FASTDFS_TIMEOUT": 5,
            "FASTDFS_BASE_URL": "http://files.example.test/",
        }

    def file_ids(self) -> list[str]:
        with self.lock:
            return [f"{self.group}/{name}" for name in self.files]

    def content(self, file_id: str) -> bytes | None:
        """Stored bytes of `group1/M00/...`, or None."""
        group, _, name = file_id.partition("/")
        with self.lock:
            item = self.files.get(name) if group == self.group else None
        return item[0] if item else None

    # --- protocol ---------------------------------------------------------------------------------

    def dispatch(self, role: str, cmd: int, sock: socket.socket, length: int) -> tuple[int, bytes]:
        """Read the request body for `cmd` from `sock`; return (status, response body)."""
        with self.lock:
            self.calls.append((role, cmd))
        if cmd == CMD_ACTIVE_TEST:
            _recv_exact(sock, length)
            return 0, b""
        if role == "tracker":
            return self._tracker(cmd, _recv_exact(sock, length))
        if cmd == STORAGE_UPLOAD_FILE:
            return self._upload(sock, length)
        return self._storage(cmd, _recv_exact(sock, length))

    def _storage_addr(self) -> bytes:
        return _pad(self.host, IP_LEN - 1) + struct.pack("!Q", self.storage_port)

    def _tracker(self, cmd: int, body: bytes) -> tuple[int, bytes]:
        group = _pad(self.group, GROUP_LEN)
        if cmd in (TRACKER_QUERY_STORE_WITHOUT_GROUP_ONE, TRACKER_QUERY_STORE_WITH_GROUP_ONE):
            if cmd == TRACKER_QUERY_STORE_WITH_GROUP_ONE and body[:GROUP_LEN] != group:
                return ENOENT, b""
            return 0, group + self._storage_addr() + b"\0"  # store_path_index 0
        if cmd in (TRACKER_QUERY_FETCH_ONE, TRACKER_QUERY_UPDATE):
            if body[:GROUP_LEN] != group:
                return ENOENT, b""
            return 0, group + self._storage_addr()
        return EINVAL, b""

    def _new_name(self, data: bytes, ext: str) -> str:
        with self.lock:
            self._seq += 1
            seq = self._seq
        now = int(time.time())
        crc = zlib.crc32(data)
        raw = socket.inet_aton(self.host) + struct.pack("!IQI", now, (len(data) << 16) | seq, crc)
        b64 = base64.urlsafe_b64encode(raw).decode().rstrip("=")  # 20 bytes → 27 chars
        name = f"M00/{crc & 0xFF:02X}/{(crc >> 8) & 0xFF:02X}/{b64}"
        return f"{name}.{ext}" if ext else name

    def _upload(self, sock: socket.socket, length: int) -> tuple[int, bytes]:
        head = _recv_exact(sock, 15)
        _path_index, size, ext = struct.unpack("!BQ6s", head)
        if size != length - 15:
            _recv_exact(sock, length - 15)
            return EINVAL, b""
        data = _recv_exact(sock, size)
        name = self._new_name(data, ext.rstrip(b"\0").decode())
        with self.lock:
            self.files[name] = (data, int(time.time()))
        return 0, _pad(self.group, GROUP_LEN) + name.encode()

    def _lookup(self, body: bytes) -> tuple[str, tuple[bytes, int] | None]:
        group = body[:GROUP_LEN].rstrip(b"\0").decode()
        name = body[GROUP_LEN:].decode()
        with self.lock:
            item = self.files.get(name) if group == self.group else None
        return name, item

    def _storage(self, cmd: int, body: bytes) -> tuple[int, bytes]:
        if cmd == STORAGE_DOWNLOAD_FILE:
            offset, count = struct.unpack("!QQ", body[:16])
            _name, item = self._lookup(body[16:])
            if item is None:
                return ENOENT, b""
            data = item[0][offset:]
            return 0, data[:count] if count else data
        if cmd == STORAGE_DELETE_FILE:
            name, item = self._lookup(body)
            if item is None:
                return ENOENT, b""
            with self.lock:
                self.files.pop(name, None)
            return 0, b""
        if cmd == STORAGE_QUERY_FILE_INFO:
            _name, item = self._lookup(body)
            if item is None:
                return ENOENT, b""
            data, created = item
            return 0, struct.pack("!QQQ", len(data), created, zlib.crc32(data)) + _pad(
                self.host, IP_LEN
            )
        return EINVAL, b""


@pytest.fixture(scope="session")
def fdfs_server() -> Iterator[FastDFSTestServer]:
    """A running FastDFS test server for the session (import this fixture into a test module).

    Tests that stop it use `with fdfs_server.down():`, which restarts it on the same ports.
    """
    server = FastDFSTestServer().start()
    yield server
    if server.running:
        server.stop()


if __name__ == "__main__":  # manual run: python tests/fdfs_server.py
    srv = FastDFSTestServer().start()
    print(f"tracker 127.0.0.1:{srv.tracker_port} storage 127.0.0.1:{srv.storage_port}")
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
