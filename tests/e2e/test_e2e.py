"""End-to-end: the built SPA in Debian's Chromium (playwright-core) against a live server.

The server is started like `make run` (migrate, load_areas, load_demo on a temporary SQLite DB,
runserver on a free port), with Redis caches on a dedicated REDIS_DB_BASE so that the test can
read a captcha code from Redis (tests/e2e/captcha_code.py) — the product has no bypass.
Flows and assertions live in tests/e2e/run.mjs; screenshots go to tests/e2e/screenshots/.
Missing Chromium, Node or Redis: fails under CI, skips elsewhere (conftest.require_service).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
E2E = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
REDIS_DB_BASE = os.environ.get("E2E_REDIS_DB_BASE", "40")
PASSWORD = "e2e-Pass-2026!"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_ok() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for base in paths:
        files = base.rglob("*") if base.is_dir() else [base]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def _ensure_built(npm: str) -> None:
    """`npm ci` when node_modules is missing; `npm run build` when dist is older than the sources."""
    if not (FRONTEND / "node_modules" / "playwright-core").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    index = FRONTEND / "dist" / "index.html"
    sources = [
        FRONTEND / "src",
        FRONTEND / "index.html",
        FRONTEND / "package-lock.json",
        FRONTEND / "vite.config.ts",
    ]
    if not index.exists() or index.stat().st_mtime < _newest_mtime(sources):
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)


def _server_env(tmp: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DATABASE_", "ELASTICSEARCH_", "CELERY_", "REDIS_", "ALIPAY_", "FASTDFS_")
        )
        and k
        not in {
            "TESTING",
            "DEBUG",
            "EMAIL_URL",
            "FRONTEND_URL",
            "MEDIA_ROOT",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    base = f"http://127.0.0.1:{port}"
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'e2e.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        REDIS_URL=REDIS_URL,
        REDIS_DB_BASE=REDIS_DB_BASE,
        CACHE_PREFIX="e2e",
        CELERY_TASK_ALWAYS_EAGER="true",
        FRONTEND_URL=base,
        ALIPAY_NOTIFY_URL=f"{base}/api/shopping/payment/notify/",
        ALIPAY_RETURN_URL=f"{base}/pay/return",
        E2E_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    return env


def _flush_redis() -> None:
    import redis

    for db in range(int(REDIS_DB_BASE), int(REDIS_DB_BASE) + 5):
        redis.Redis.from_url(f"{REDIS_URL}/{db}").flushdb()


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server not ready after {timeout} s")


def test_e2e_flows(tmp_path: Path) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    require_service("Node.js", bool(node and npm), "node/npm not on PATH")
    require_service(
        "Chromium", os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} missing: apt-get install chromium"
    )
    require_service("Redis", _redis_ok(), f"{REDIS_URL} unreachable")
    _ensure_built(npm)
    _flush_redis()

    port = _free_port()
    env = _server_env(tmp_path, port)
    py = sys.executable
    manage = [py, str(ROOT / "manage.py")]
    for step in (["migrate", "--noinput"], ["load_areas"], ["load_demo", "--topics", "30"]):
        subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([py, str(E2E / "seed.py")], cwd=ROOT, env=env, check=True)

    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", server)
        shots = E2E / "screenshots"
        shots.mkdir(exist_ok=True)
        env_node = {
            **env,
            "BASE_URL": f"http://127.0.0.1:{port}",
            "CHROMIUM": CHROMIUM,
            "PYTHON": py,
            "SCREENSHOT_DIR": str(shots),
        }
        result = subprocess.run(
            [node, str(E2E / "run.mjs")],
            cwd=ROOT,
            env=env_node,
            capture_output=True,
            text=True,
            timeout=480,
        )
        print(result.stdout)
        print(result.stderr, file=sys.stderr)
        assert result.returncode == 0, (
            f"e2e failed (rc={result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}\n"
            f"--- server log ---\n{(tmp_path / 'server.log').read_text()[-4000:]}"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_frontend_typecheck() -> None:
    """`npm run typecheck` (vue-tsc) is clean against the committed generated API types."""
    npm = shutil.which("npm")
    require_service("Node.js", bool(npm), "npm not on PATH")
    if not (FRONTEND / "node_modules" / "vue-tsc").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    result = subprocess.run([npm, "run", "typecheck"], cwd=FRONTEND, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
