"""Small process helpers: free ports, bounded waits, stopping a child process."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on `host:port`."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1
) -> float:
    """Poll `check` until true; return the seconds waited. Raises TimeoutError after `timeout` s."""
    start = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - start
        except Exception:  # a probe that fails is a "not yet"
            pass
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what} not ready within {timeout:.0f} s")
        time.sleep(interval)


def stop(proc: subprocess.Popen | None, *, timeout: float = 10.0) -> None:
    """Terminate `proc` (SIGTERM, then SIGKILL after `timeout` s) and reap it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
