"""Deployment files: docker/compose.yaml (validated by the real Compose CLI), env examples, secrets,
.env.example, gunicorn/nginx/systemd files, and `manage.py check --deploy` with production env.

The Compose CLI is `docker compose` (plugin) or the standalone `docker-compose` v2 binary that
requirements-dev.txt installs into the virtualenv; no Docker engine is needed for `config`.
"""

import ast
import configparser
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import require_service

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
QUEUES = ("default", "mail", "search", "payment")
# settings variables the containers do not set: test-only, and the file-system storage folder
# (the stack stores files in FastDFS)
NOT_FOR_CONTAINERS = {"TESTING", "MEDIA_ROOT"}
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PRIVATE_KEY|PUBLIC_KEY)$")
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:([^@\s]+)@")


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads (`env.<cast>("NAME", ...)`)."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def entrypoint_file_variables() -> set[str]:
    """Variables docker/entrypoint.sh fills from `<NAME>_FILE`."""
    text = (ROOT / "docker" / "entrypoint.sh").read_text()
    block = re.search(r"for name in (.*?); do", text, re.S)
    assert block, "entrypoint.sh lost its `for name in ...; do` list"
    return set(block.group(1).replace("\\", " ").split())


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    venv_bin = Path(sys.executable).parent / "docker-compose"
    for candidate in (shutil.which("docker-compose"), str(venv_bin)):
        if candidate and Path(candidate).exists():
            probe = subprocess.run([candidate, "version"], capture_output=True, text=True)
            if probe.returncode == 0 and re.search(r" v[2-9]\.", probe.stdout):
                return [candidate]
    return None


@pytest.fixture(scope="module")
def compose() -> dict:
    """`compose config --format json` of docker/compose.yaml on a clean checkout."""
    cmd = compose_command()
    require_service(
        "Docker Compose CLI", cmd is not None, "no `docker compose` nor docker-compose v2 binary"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "STSYS_", "ES_"))}
    done = subprocess.run(
        [*cmd, "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_services_the_settings_need_are_defined(compose) -> None:
    services = compose["services"]
    expected = {
        "db",
        "redis",
        "elasticsearch",
        "fastdfs-tracker",
        "fastdfs-storage",
        "migrate",
        "web",
        "beat",
        "nginx",
        *(f"worker-{q}" for q in QUEUES),
    }
    assert expected <= set(services), expected - set(services)
    assert services["db"]["image"].startswith("mysql:8")
    assert "--character-set-server=utf8mb4" in services["db"]["command"]
    assert services["redis"]["image"].startswith("redis:")
    assert services["fastdfs-tracker"]["command"] == ["tracker"]
    assert services["fastdfs-storage"]["command"] == ["storage"]
    assert services["fastdfs-storage"]["environment"]["TRACKER_SERVER"] == "fastdfs-tracker:22122"
    assert services["web"]["build"]["dockerfile"] == "docker/Dockerfile"
    assert "deploy/gunicorn.conf.py" in services["web"]["command"]
    assert services["nginx"]["ports"], "nginx publishes no port"


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(compose) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check, f"{name}: no healthcheck"
        assert check.get("test"), f"{name}: healthcheck without a test"
        assert not check.get("disable"), f"{name}: healthcheck disabled"
        for dep, how in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if dep == "migrate" else "service_healthy"
            assert how["condition"] == wanted, f"{name} → {dep}: {how}"
    app_deps = {"db", "redis", "elasticsearch", "fastdfs-storage", "migrate"}
    for name in ("web", "beat", *(f"worker-{q}" for q in QUEUES)):
        assert set(compose["services"][name]["depends_on"]) == app_deps, name
    assert "web" in compose["services"]["nginx"]["depends_on"]


def test_one_worker_per_queue_covers_every_routed_queue(compose) -> None:
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    routed |= {settings.CELERY_TASK_DEFAULT_QUEUE, *settings.CELERY_QUEUES_ALL.split(",")}
    served = set()
    for queue in QUEUES:
        worker = compose["services"][f"worker-{queue}"]
        command = " ".join(worker["command"])
        assert "celery -A celery_tasks.main worker -Q" in command
        assert worker["environment"]["CELERY_QUEUE"] == queue
        served.add(queue)
    assert routed <= served, routed - served
    beat = " ".join(compose["services"]["beat"]["command"])
    assert "celery -A celery_tasks.main beat" in beat


def test_app_env_names_every_settings_variable(compose) -> None:
    needed = settings_variables() - NOT_FOR_CONTAINERS
    from_files = entrypoint_file_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "EMAIL_URL"} <= needed  # the parser still works
    for name in ("web", "migrate", "beat", *(f"worker-{q}" for q in QUEUES)):
        service = compose["services"][name]
        env = service["environment"]
        mounted = {s["target"] for s in service.get("secrets", [])}
        for var in sorted(needed):
            if var in env:
                continue
            file_var = f"{var}_FILE"
            assert file_var in env, f"{name}: {var} is neither set nor given as {file_var}"
            assert var in from_files, f"docker/entrypoint.sh does not read {file_var}"
            assert env[file_var] in mounted, f"{name}: {file_var} is not a mounted secret"
        for var in ("ALIPAY_APP_PRIVATE_KEY_FILE", "ALIPAY_PUBLIC_KEY_FILE"):
            assert env[var] in mounted, f"{name}: {var} is not a mounted secret"
        assert env["DEBUG"] == "false"
        assert env["ALIPAY_SIMULATOR"] == "false"
        assert env["CELERY_TASK_ALWAYS_EAGER"] == "false"
        assert env["REDIS_URL"] == "redis://redis:6379"
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/2"
        assert env["CELERY_RESULT_BACKEND"] == "redis://redis:6379/3"
        assert env["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
        assert env["FASTDFS_TRACKERS"] == "fastdfs-tracker:22122"
    web_hosts = compose["services"]["web"]["environment"]["ALLOWED_HOSTS"].split(",")
    assert compose["services"]["nginx"]["environment"]["NGINX_SERVER_NAME"] in web_hosts


def test_no_secret_value_is_committed(compose) -> None:
    for name, service in compose["services"].items():
        for var, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(var):
                assert not value, f"{name}: {var} has a committed value"
            assert not URL_WITH_PASSWORD.search(value or ""), f"{name}: {var} embeds a password"
    secrets_dir = ROOT / "docker" / "secrets"
    for secret in compose["secrets"].values():
        path = Path(secret["file"])
        assert path.parent == secrets_dir, secret
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False
        ).returncode
        assert ignored == 0, f"{path} is not git-ignored"
    for real in ("app", "db", "elasticsearch", "fastdfs"):
        path = ROOT / "docker" / "env" / f"{real}.env"
        assert subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0
    tracked = subprocess.run(
        ["git", "ls-files", "docker", "deploy", ".env.example"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "docker/compose.yaml" in tracked
    assert [p for p in tracked if p.startswith("docker/secrets/")] == ["docker/secrets/README.md"]
    for rel in tracked:
        text = (ROOT / rel).read_text(errors="replace")
        assert "PRIVATE KEY-----" not in text, rel
        for line in text.splitlines():
            m = re.match(r"\s*#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
            if m and SECRET_NAME.search(m.group(1)):
                assert m.group(2).strip() == "", f"{rel}: {line}"
            pw = URL_WITH_PASSWORD.search(line)
            # only placeholders: CHANGE-ME, PASSWORD or <name of the secret file>
            assert not pw or re.fullmatch(r"CHANGE-ME|PASSWORD|<\w+>", pw.group(1)), (
                f"{rel}: {line}"
            )


def test_env_example_lists_every_settings_variable() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, re.M))
    missing = settings_variables() - listed
    assert not missing, f".env.example lacks {sorted(missing)}"
    # and it sets nothing by default: copying it changes no embedded default
    assert not re.findall(r"^[A-Z][A-Z0-9_]*=", text, re.M)


def test_elasticsearch_image_installs_ik_for_its_own_version(compose) -> None:
    build = compose["services"]["elasticsearch"]["build"]
    version = build["args"]["ES_VERSION"]
    assert re.fullmatch(r"8\.19\.\d+", version), version
    dockerfile = (Path(build["context"]) / build.get("dockerfile", "Dockerfile")).read_text()
    assert f"ARG ES_VERSION={version}" in dockerfile
    assert "FROM docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}" in dockerfile
    assert re.search(
        r"elasticsearch-plugin install --batch\s*\\?\s*\"https://get\.infini\.cloud/elasticsearch/"
        r"analysis-ik/\$\{ES_VERSION\}\"",
        dockerfile,
    )


def test_app_image_runs_gunicorn_with_deploy_config() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install -r /tmp/requirements.txt" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    assert '"gunicorn", "--config", "deploy/gunicorn.conf.py"' in dockerfile


@pytest.mark.parametrize(
    "path", ["docker/nginx/templates/stsys.conf.template", "deploy/nginx/stsys.conf"]
)
def test_nginx_sites_proxy_api_and_serve_static_and_media(path: str) -> None:
    text = (ROOT / path).read_text()
    for needle in (
        "client_max_body_size 3m;",
        "location /static/",
        "location /group1/",
        "healthz",
        "api",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto",
        "proxy_set_header Host $host;",
    ):
        assert needle in text, f"{path}: {needle}"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((ROOT / "deploy" / "systemd" / name).read_text())
    return parser


def test_systemd_units() -> None:
    web = _unit("stsys-web.service")
    assert web["Service"]["EnvironmentFile"] == "/etc/stsys/stsys.env"
    assert "gunicorn --config deploy/gunicorn.conf.py" in web["Service"]["ExecStart"]
    worker = _unit("stsys-worker@.service")
    assert worker["Service"]["EnvironmentFile"] == "/etc/stsys/stsys.env"
    assert "worker -Q %i" in worker["Service"]["ExecStart"]
    beat = _unit("stsys-beat.service")
    assert beat["Service"]["EnvironmentFile"] == "/etc/stsys/stsys.env"
    assert "celery -A celery_tasks.main beat" in beat["Service"]["ExecStart"]
    for unit in (web, worker, beat):
        assert unit["Install"]["WantedBy"] == "multi-user.target"
        assert unit["Service"]["User"] == "stsys"


# --- the production settings, run for real ---------------------------------------------------


def production_env(tmp_path: Path) -> dict[str, str]:
    """The docker app env (docker/env/app.env.example) with its secrets as temporary files."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in {"PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "SYSTEMROOT"}
    }
    for line in (ROOT / "docker" / "env" / "app.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value
    values = {
        "SECRET_KEY_FILE": secrets.token_urlsafe(60),
        "DATABASE_URL_FILE": "mysql://stsys:x@db:3306/stsys",
        "EMAIL_URL_FILE": "smtp+tls://mailer:x@smtp.example.com:587",
        "ALIPAY_APP_PRIVATE_KEY_FILE": "",
        "ALIPAY_PUBLIC_KEY_FILE": "",
    }
    for var, value in values.items():
        file = tmp_path / var.lower()
        file.write_text(value)
        env[var] = str(file)
    return env


def test_check_deploy_is_clean_with_the_container_env(tmp_path: Path) -> None:
    """`manage.py check --deploy --fail-level WARNING` through docker/entrypoint.sh."""
    env = production_env(tmp_path)
    done = subprocess.run(
        [
            "sh",
            "docker/entrypoint.sh",
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_is_clean_with_minimal_production_env() -> None:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="example.com",
        ALIPAY_SIMULATOR="false",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_deploy_catches_a_weak_secret_key() -> None:
    """The check above can fail: a short key is reported (security.W009)."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}}
    env.update(DEBUG="false", SECRET_KEY="short", ALLOWED_HOSTS="example.com")
    env["ALIPAY_SIMULATOR"] = "false"
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_config_serves_healthz_and_the_healthcheck_passes(tmp_path: Path) -> None:
    """gunicorn with deploy/gunicorn.conf.py under the container env; deploy/healthcheck.py."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    assert gunicorn.exists(), "gunicorn is in requirements.txt"
    port = _free_port()
    env = production_env(tmp_path)
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["sh", "docker/entrypoint.sh", str(gunicorn), "--config", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        check = [sys.executable, "deploy/healthcheck.py", url]
        deadline = time.monotonic() + 30
        while True:
            rc = subprocess.run(check, cwd=ROOT, env=env, capture_output=True).returncode
            if rc == 0 or time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(0.3)
        assert rc == 0, log.read_text()
        # a Host outside ALLOWED_HOSTS is refused, so the probe's Host handling matters
        bad = dict(env, ALLOWED_HOSTS="not-allowed.example.org")
        assert subprocess.run(check, cwd=ROOT, env=bad, capture_output=True).returncode == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text()
    assert "Using worker: sync" in text
    assert re.search(r'"GET /healthz HTTP/1\.1" 200 ', text), text  # access log on stdout


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Only the missing /srv/stsys executables (not installed here) may be reported."""
    require_service(
        "systemd-analyze", bool(shutil.which("systemd-analyze")), "Debian package systemd"
    )
    units = []
    for name in ("stsys-web.service", "stsys-beat.service", "stsys-worker@.service"):
        target = tmp_path / name.replace("@.", "@mail.")
        target.write_text((ROOT / "deploy" / "systemd" / name).read_text())
        units.append(str(target))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "/srv/stsys/app/.venv/bin/" not in line
    ]
    assert not problems, problems
