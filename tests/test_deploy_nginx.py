"""The nginx sites, run for real: `nginx -t` on both, and the compose site in front of gunicorn.

The compose template (docker/nginx/templates/stsys.conf.template) is rendered like the nginx image
does (envsubst of NGINX_SERVER_NAME) with its upstream host names pointed at local ports: gunicorn
with deploy/gunicorn.conf.py and the production env, and a plain HTTP server standing in for the
FastDFS storage nginx. Needs the `nginx` binary (Debian package nginx-light or nginx); without it
the tests fail under CI and are skipped elsewhere.
"""

import http.client
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require_service
from tests.test_deploy_compose import _free_port, production_env

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.fixture(autouse=True)
def _nginx_installed() -> None:
    """Under CI a missing nginx fails these tests (root conftest.require_service)."""
    require_service("nginx", NGINX is not None, "Debian package nginx-light")


def _main_conf(tmp: Path, site: Path) -> Path:
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read files under tmp_path
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy;\n  include {site};\n}}\n"
    )
    return conf


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=example.com"),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz", headers={"Host": "example.com"})
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"port {port} never answered")


def test_deploy_site_passes_nginx_t(tmp_path: Path) -> None:
    if not shutil.which("openssl"):
        require_service("openssl", False, "Debian package openssl")
    key, cert = _self_signed(tmp_path)
    site = tmp_path / "stsys.conf"
    text = (ROOT / "deploy" / "nginx" / "stsys.conf").read_text()
    text = text.replace("/etc/letsencrypt/live/example.com/fullchain.pem", str(cert))
    text = text.replace("/etc/letsencrypt/live/example.com/privkey.pem", str(key))
    site.write_text(text)
    done = subprocess.run(
        [NGINX, "-t", "-c", str(_main_conf(tmp_path, site))], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[int]:
    """gunicorn + fake FastDFS storage + nginx with the compose site; yields nginx's port."""
    web_port, fdfs_port, nginx_port = _free_port(), _free_port(), _free_port()
    procs: list[subprocess.Popen] = []
    env = production_env(tmp_path)
    env.update(GUNICORN_BIND=f"127.0.0.1:{web_port}", GUNICORN_WORKERS="1")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path / "gunicorn.log").open("w")
    procs.append(
        subprocess.Popen(
            ["sh", "docker/entrypoint.sh", str(gunicorn), "--config", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    files = tmp_path / "fdfs"
    (files / "group1" / "M00" / "00" / "00").mkdir(parents=True)
    (files / "group1" / "M00" / "00" / "00" / "avatar.txt").write_text("fastdfs file")
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "http.server", str(fdfs_port), "--bind", "127.0.0.1"],
            cwd=files,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body{}")
    text = (ROOT / "docker" / "nginx" / "templates" / "stsys.conf.template").read_text()
    for old, new in (
        ("${NGINX_SERVER_NAME}", "example.com"),
        ("server web:8000;", f"server 127.0.0.1:{web_port};"),
        ("server fastdfs-storage:8888;", f"server 127.0.0.1:{fdfs_port};"),
        ("listen 80 default_server;", f"listen 127.0.0.1:{nginx_port} default_server;"),
        ("/srv/stsys/static/", f"{static}/"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    site = tmp_path / "site.conf"
    site.write_text(text)
    conf = _main_conf(tmp_path, site)
    procs.append(
        subprocess.Popen(
            [NGINX, "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    try:
        _wait_port(web_port, procs[0])
        _wait_port(nginx_port, procs[2])
        yield nginx_port
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def _get(port: int, method: str, path: str, body: bytes | None = None, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers={"Host": "example.com", **headers})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_compose_site_in_front_of_gunicorn(stack: int) -> None:
    port = stack
    https = {"X-Forwarded-Proto": "https"}
    status, headers, body = _get(port, "GET", "/healthz")
    assert (status, body) == (200, b'{"status": "ok"}')
    assert "X-Request-ID" in headers  # answered by Django, through the proxy

    status, _, body = _get(port, "GET", "/static/css/site.css")
    assert (status, body) == (200, b"body{}")

    status, _, body = _get(port, "GET", "/group1/M00/00/00/avatar.txt")
    assert (status, body) == (200, b"fastdfs file")

    # no X-Forwarded-Proto from a load balancer: nginx passes its own scheme (http), and the
    # production settings redirect to HTTPS; with the header they answer the API itself
    status, headers, _ = _get(port, "GET", "/api/users/me/")
    assert status == 301
    assert headers["Location"] == "https://example.com/api/users/me/"
    status, headers, _ = _get(port, "GET", "/api/users/me/", **{"X-Forwarded-Proto": "https"})
    assert status == 401
    assert headers["Content-Type"].startswith("application/json")

    # bodies up to 3 MiB reach Django (nginx's own default would stop them at 1 MiB) ...
    # (an endpoint that reads the whole body: one that answers 401 first may close the upstream
    # connection while nginx is still sending, and nginx then answers 502 — a race, not a limit)
    status, headers, _ = _get(
        port,
        "POST",
        "/api/users/login/",
        body=b"x" * (2 * 1024 * 1024 + 512 * 1024),
        **{**https, "Content-Type": "application/json"},
    )
    assert status == 400  # Django parsed (and rejected) the body: it got through nginx
    assert "X-Request-ID" in headers
    # ... larger ones stop at nginx
    status, _, _ = _get(
        port,
        "POST",
        "/api/users/me/",
        body=b"x" * (3 * 1024 * 1024 + 1),
        **{"X-Forwarded-Proto": "https"},
    )
    assert status == 413

    # anything outside the routed prefixes is not proxied
    status, headers, _ = _get(port, "GET", "/secret.txt")
    assert status == 404
    assert "X-Request-ID" not in headers
