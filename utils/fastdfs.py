"""Django file storage on FastDFS through the py3Fdfs client (API.md §0 `FASTDFS_*`, §1.8).

The FileField stores the FastDFS file id (`group1/M00/00/00/wKgBAV...png`); `url()` joins it to
`FASTDFS_BASE_URL` (the nginx/fastdfs-module in front of the storage servers).

py3Fdfs 2.2 (`fdfs_client`) is used for the wire protocol (`Tracker_client`, `Storage_client`,
`Tracker_header`, `tcp_send_data`, `tcp_recv_response`), wrapped, not forked. Quirks worked around here:

* `ConnectionPool.make_conn` retries a refused connect 10 times, `print`s each error and then calls
  `sys.exit()` → `_Pool` connects once and raises `fdfs_client.exceptions.ConnectionError`.
  `Fdfs_client` builds `Storage_client` pools internally with that pool class, so this module
  drives `Tracker_client` / `_StorageClient` itself instead of the `Fdfs_client` methods.
* `tcp_recv_response` loops forever when the peer closes mid-body (`recv` → `b""`) →
  `_Socket.recv` raises `socket.error` on EOF, which the library turns into `ConnectionError`.
* `get_tracker_conf` reads an INI file and keeps only the LAST tracker's port for all trackers →
  the config dict is built from `FASTDFS_TRACKERS` directly, one pool per `host:port`, tried in order.
* Connections are pooled per client object and released even after a protocol error (a half-read
  socket could be reused) → every operation opens its own pools and destroys them afterwards.
* `download_to_buffer(offset=n)` with n ≠ 0 raises `UnboundLocalError`; only offset 0 is used.
* No "query file info" (storage cmd 22) in the client → `_query_file_info` speaks it with the
  library's header/IO helpers; body `file_size(8) create_timestamp(8) crc32(8) source_ip(16)`
  (FastDFS `storage/storage_service.c`, `storage_server_query_file_info`).
* File ids and group names are `bytes` inside the library; this module speaks `str`.

Every failure (refused, timeout, EOF, malformed answer, server status ≠ 0 other than "not found")
raises `utils.exceptions.StorageUnavailable` (503) after one ERROR log line naming the operation.
"""

from __future__ import annotations

import logging
import re
import socket
import struct
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible
from fdfs_client import exceptions as fdfs_exc
from fdfs_client.connection import Connection, ConnectionPool, tcp_recv_response, tcp_send_data
from fdfs_client.fdfs_protol import (
    FDFS_GROUP_NAME_MAX_LEN,
    IP_ADDRESS_SIZE,
    STORAGE_PROTO_CMD_QUERY_FILE_INFO,
    Tracker_header,
)
from fdfs_client.storage_client import Storage_client
from fdfs_client.tracker_client import Tracker_client

from utils.exceptions import StorageUnavailable

logger = logging.getLogger(__name__)

ENOENT = 2  # FastDFS answers a missing file with status = errno ENOENT
_QUERY_FILE_INFO_BODY = struct.Struct(f"!QQQ{IP_ADDRESS_SIZE}s")  # 40 bytes
_STATUS = re.compile(r"Error: (\d+)")  # py3Fdfs puts the server status into DataError's text
T = TypeVar("T")


class FileNotFoundOnStorage(Exception):  # internal signal, never leaves this module
    """The storage server answered ENOENT for the file id."""


class _Socket:
    """Socket proxy: `recv` raising on EOF so the library cannot spin on `b""`."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def recv(self, size: int) -> bytes:
        data = self._sock.recv(size)
        if not data and size:
            raise OSError("connection closed by the FastDFS server")
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Connection(Connection):
    """`Connection` whose socket is wrapped in `_Socket`."""

    def _connect(self) -> Any:
        return _Socket(super()._connect())


class _Pool(ConnectionPool):
    """Connects once per request for a connection; a failure raises instead of `sys.exit()`."""

    def __init__(self, name: str = "", conn_class: type = _Connection, **conn_kwargs: Any) -> None:
        super().__init__(name=name, conn_class=conn_class, **conn_kwargs)

    def make_conn(self) -> Connection:
        conn = self.conn_class(**self.conn_kwargs)
        conn.connect()  # raises fdfs ConnectionError (refused, timeout)
        self._conns_created += 1
        return conn

    def _check_pid(self) -> None:  # pools never outlive one operation, so never cross a fork
        return None


class _StorageClient(Storage_client):
    """`Storage_client` on `_Pool` (the library hard-codes its own retry/exit pool)."""

    def __init__(self, ip_addr: bytes, port: int, timeout: float) -> None:
        self.pool = _Pool(
            name="Storage Pool", host_tuple=(_text(ip_addr),), port=port, timeout=timeout
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _split_file_id(name: str) -> tuple[bytes, bytes]:
    group, sep, remote = name.lstrip("/").partition("/")
    if not sep or not group or not remote:
        raise ValueError(f"not a FastDFS file id: {name!r}")
    return group.encode(), remote.encode()


def tracker_configs(trackers: list[str], timeout: float) -> list[dict[str, Any]]:
    """`["host:port", ...]` → py3Fdfs tracker dicts (`get_tracker_conf` shape), one per tracker.

    Raises ValueError for an entry without a numeric port.
    """
    configs = []
    for entry in trackers:
        host, _, port = entry.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"FASTDFS_TRACKERS entry must be host:port, got {entry!r}")
        configs.append(
            {"host_tuple": (host,), "port": int(port), "timeout": timeout, "name": "Tracker Pool"}
        )
    return configs


@deconstructible
class FastDFSStorage(Storage):
    """Django `Storage` whose names are FastDFS file ids (`group1/M00/00/00/<27 chars>.<ext>`).

    Settings: `FASTDFS_TRACKERS` (`["host:port", ...]`, tried in order), `FASTDFS_TIMEOUT`
    (seconds, connect and each network read/write), `FASTDFS_BASE_URL` (public URL prefix).
    Errors: `StorageUnavailable` (503) when a tracker or storage server cannot serve the call.
    """

    def __init__(
        self,
        trackers: list[str] | None = None,
        timeout: float | None = None,
        base_url: str | None = None,
    ) -> None:
        self.trackers = list(trackers if trackers is not None else settings.FASTDFS_TRACKERS)
        self.timeout = float(timeout if timeout is not None else settings.FASTDFS_TIMEOUT)
        self.base_url = (base_url if base_url is not None else settings.FASTDFS_BASE_URL) or ""
        self._configs = tracker_configs(self.trackers, self.timeout)

    # --- plumbing -------------------------------------------------------------------------------

    def _call(self, op: str, name: str, work: Callable[[Tracker_client], T]) -> T:
        """Run `work(tracker_client)` against the first tracker that answers.

        A connect failure moves on to the next tracker; anything else is final.
        """
        if not self._configs:
            logger.error("fastdfs %s %s failed: FASTDFS_TRACKERS is empty", op, name)
            raise StorageUnavailable()
        last_error: BaseException | None = None
        for config in self._configs:
            pool = _Pool(**config)
            try:
                return work(Tracker_client(pool))
            except fdfs_exc.DataError as exc:  # the server answered with a status ≠ 0
                match = _STATUS.search(str(exc))
                if match and int(match.group(1)) == ENOENT and op != "upload":
                    raise FileNotFoundOnStorage(name) from exc
                last_error = exc
                break
            except fdfs_exc.ConnectionError as exc:
                last_error = exc
                if pool._conns_created:  # connected, then failed: do not retry elsewhere
                    break
            except (fdfs_exc.FDFSError, OSError, struct.error, ValueError) as exc:
                last_error = exc
                break
            finally:
                pool.destroy()
        logger.error(
            "fastdfs %s %s failed (trackers %s): %s", op, name or "-", ",".join(self.trackers),
            last_error,
        )  # fmt: skip
        raise StorageUnavailable() from last_error

    def _storage_for(self, store_serv: Any) -> _StorageClient:
        return _StorageClient(store_serv.ip_addr, store_serv.port, self.timeout)

    def _query_file_info(self, name: str) -> tuple[int, int, int, str]:
        """`(file_size bytes, create_timestamp s, crc32, source_ip)`; FileNotFoundOnStorage if gone."""
        group, remote = _split_file_id(name)

        def work(tracker: Tracker_client) -> tuple[int, int, int, str]:
            store_serv = tracker.tracker_query_storage_fetch(group, remote)
            store = self._storage_for(store_serv)
            conn = store.pool.get_connection()
            try:
                header = Tracker_header()
                header.cmd = STORAGE_PROTO_CMD_QUERY_FILE_INFO
                header.pkg_len = FDFS_GROUP_NAME_MAX_LEN + len(remote)
                header.send_header(conn)
                tcp_send_data(conn, struct.pack(f"!{FDFS_GROUP_NAME_MAX_LEN}s", group) + remote)
                header.recv_header(conn)
                if header.status != 0:  # same text shape as the library's errors
                    raise fdfs_exc.DataError(f"Error: {header.status}, query file info")
                body, size = tcp_recv_response(conn, header.pkg_len)
                if size != _QUERY_FILE_INFO_BODY.size:
                    raise fdfs_exc.ResponseError(f"query file info body of {size} bytes")
            finally:
                store.pool.destroy()
            file_size, created, crc32, ip = _QUERY_FILE_INFO_BODY.unpack(body)
            return file_size, created, crc32, ip.rstrip(b"\0").decode()

        return self._call("query", name, work)

    # --- Storage API ----------------------------------------------------------------------------

    def _save(self, name: str, content: File) -> str:
        """Upload `content` by buffer; return the server-chosen file id (ext from `name`)."""
        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
        ext = ext[:6]  # FDFS_FILE_EXT_NAME_MAX_LEN

        def work(tracker: Tracker_client) -> str:
            store_serv = tracker.tracker_query_storage_stor_without_group()
            store = self._storage_for(store_serv)
            try:
                result = store.storage_upload_by_buffer(tracker, store_serv, data, ext or None)
            finally:
                store.pool.destroy()
            return _text(result["Remote file_id"])

        if not data:
            # the library refuses empty buffers; FastDFS would store them, but nothing needs it
            raise ValueError("cannot store an empty file in FastDFS")
        file_id = self._call("upload", name, work)
        logger.info("fastdfs uploaded %s (%d bytes)", file_id, len(data))
        return file_id

    def _open(self, name: str, mode: str = "rb") -> File:
        """Download the whole file into memory. FileNotFoundError if the id is unknown."""
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("FastDFS files are read-only once stored")
        group, remote = _split_file_id(name)

        def work(tracker: Tracker_client) -> bytes:
            store_serv = tracker.tracker_query_storage_fetch(group, remote)
            store = self._storage_for(store_serv)
            try:
                result = store.storage_download_to_buffer(tracker, store_serv, None, 0, 0, remote)
            finally:
                store.pool.destroy()
            return result["Content"]

        try:
            data = self._call("download", name, work)
        except FileNotFoundOnStorage:
            raise FileNotFoundError(name) from None
        file = ContentFile(data, name=name)
        file.mode = mode
        return file

    def delete(self, name: str) -> None:
        """Delete the file; an already-missing file is not an error (Django's contract)."""
        if not name:
            raise ValueError("The name must be given to delete().")
        group, remote = _split_file_id(name)

        def work(tracker: Tracker_client) -> None:
            store_serv = tracker.tracker_query_storage_update(group, remote)
            store = self._storage_for(store_serv)
            try:
                store.storage_delete_file(tracker, store_serv, remote)
            finally:
                store.pool.destroy()

        try:
            self._call("delete", name, work)
        except FileNotFoundOnStorage:
            logger.info("fastdfs delete %s: already gone", name)
            return
        logger.info("fastdfs deleted %s", name)

    def exists(self, name: str) -> bool:
        """True if the storage server knows the file id (query file info, cmd 22)."""
        try:
            self._query_file_info(name)
        except FileNotFoundOnStorage:
            return False
        except ValueError:
            return False
        return True

    def size(self, name: str) -> int:
        """File size in bytes. FileNotFoundError if the id is unknown."""
        try:
            return self._query_file_info(name)[0]
        except FileNotFoundOnStorage:
            raise FileNotFoundError(name) from None

    def url(self, name: str | None) -> str:
        """`FASTDFS_BASE_URL` + `/` + file id, with exactly one slash between them."""
        if not name:
            raise ValueError("This file is not accessible via a URL.")
        base = self.base_url.rstrip("/")
        return f"{base}/{name.lstrip('/')}" if base else f"/{name.lstrip('/')}"

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """FastDFS chooses the id on upload, so any requested name is "available"."""
        return name

    def get_valid_name(self, name: str) -> str:
        """Names are only used for their extension; keep them as given."""
        return name

    def generate_filename(self, filename: str) -> str:
        """No upload_to / path handling: the server picks the stored name."""
        return filename

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Not supported by FastDFS's client protocol."""
        raise NotImplementedError("FastDFS cannot list directories")
