"""A throwaway MariaDB server (own datadir under var/, own free port), like
tests/services/mariadb_replica.sh starts its pair: for the restart-under-load fault test.

`kill()` is a crash (SIGKILL); `start()` again reuses the datadir (InnoDB crash recovery).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.faults.procs import free_port, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]


class ThrowawayMariaDB:
    """`mariadbd --no-defaults` on 127.0.0.1:<free port>, datadir `var/fault-mariadb/data`
    (created once with mariadb-install-db), user `stsys`/`stsys` with all privileges."""

    def __init__(self, base: Path | None = None) -> None:
        self.base = base or ROOT / "var" / "fault-mariadb"
        self.data = self.base / "data"
        self.run = self.base / "run"
        self.socket = self.run / "mariadb.sock"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        """True when mariadbd and mariadb-install-db are installed."""
        return all(shutil.which(b) for b in ("mariadbd", "mariadb-install-db", "mariadb-admin"))

    def url(self, database: str) -> str:
        """A DATABASE_URL for `database` on this server."""
        return f"mysql://stsys:stsys@127.0.0.1:{self.port}/{database}"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "mysql", "mysql")
            for dirpath, dirnames, filenames in os.walk(path):
                for name in dirnames + filenames:
                    shutil.chown(os.path.join(dirpath, name), "mysql", "mysql")

    def install(self) -> None:
        """Create the datadir (system tables) unless it exists."""
        self.run.mkdir(parents=True, exist_ok=True)
        self._chown(self.run)
        if (self.data / "mysql").is_dir():
            return
        self.data.mkdir(parents=True, exist_ok=True)
        self._chown(self.data)
        subprocess.run(
            ["mariadb-install-db", "--user=mysql", f"--datadir={self.data}",
             "--auth-root-authentication-method=socket", "--skip-test-db"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
        )  # fmt: skip

    def start(self, *, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers a ping."""
        self.install()
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=mysql", f"--datadir={self.data}",
             f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--pid-file={self.run / 'mariadb.pid'}", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci", "--innodb-buffer-pool-size=32M",
             "--innodb-log-file-size=16M", "--max-connections=50", "--skip-name-resolve",
             "--skip-log-bin", "--innodb-flush-log-at-trx-commit=2",
             f"--log-error={self.base / 'mariadb.err'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.ping, timeout=timeout, what="throwaway MariaDB")

    def ping(self) -> bool:
        """True when the server answers `mariadb-admin ping` on its socket."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        result = subprocess.run(
            ["mariadb-admin", f"--socket={self.socket}", "-uroot", "ping"],
            capture_output=True, timeout=5,
        )  # fmt: skip
        return result.returncode == 0

    def sql(self, statements: str) -> None:
        """Run SQL as root over the socket."""
        subprocess.run(
            ["mariadb", f"--socket={self.socket}", "-uroot"],
            input=statements.encode(), check=True, capture_output=True, timeout=30,
        )  # fmt: skip

    def create_database(self, name: str) -> None:
        """Create user stsys/stsys (all privileges) and an empty utf8mb4 database `name`."""
        self.sql(
            "CREATE USER IF NOT EXISTS 'stsys'@'127.0.0.1' IDENTIFIED BY 'stsys';\n"
            "GRANT ALL PRIVILEGES ON *.* TO 'stsys'@'127.0.0.1';\n"
            f"DROP DATABASE IF EXISTS `{name}`;\n"
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n"
        )

    def kill(self) -> None:
        """SIGKILL the server (a crash) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def close(self) -> None:
        """Stop the server (SIGTERM: clean shutdown); the datadir stays for the next run."""
        stop(self.proc, timeout=30)
