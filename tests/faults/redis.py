"""A throwaway `redis-server` on a free port (never the shared one on 6379), started and killed
by the fault tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

from tests.faults.procs import free_port, port_open, stop, wait_until


class ThrowawayRedis:
    """`redis-server --port <free>` with no persistence, in a temporary directory.

    `url`: `redis://127.0.0.1:<port>`; `kill()` makes it vanish (SIGKILL), as a crash would.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix="fault-redis-")
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        """True when the `redis-server` binary is installed."""
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        """Start the server and wait (≤10 s) until it accepts connections."""
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--databases", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: port_open(self.port), timeout=10, what="throwaway redis-server")

    def kill(self) -> None:
        """SIGKILL the server and wait until the port is closed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        wait_until(lambda: not port_open(self.port), timeout=10, what="redis-server exit")

    def close(self) -> None:
        """Stop the server if still running and remove its directory."""
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
