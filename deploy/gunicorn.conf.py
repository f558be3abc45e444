"""gunicorn configuration of the stsys web process (docker/compose.yaml and deploy/systemd).

`gunicorn -c deploy/gunicorn.conf.py config.wsgi:application`. Everything can be tuned from the
environment without editing this file:

| variable | meaning [default] |
|---|---|
| `GUNICORN_BIND` | address, `host:port` or `unix:/path` [`0.0.0.0:8000`] |
| `GUNICORN_WORKERS` | sync worker processes [2 × CPUs + 1] |
| `GUNICORN_TIMEOUT` | seconds a worker may spend on one request before it is killed [30] |
| `GUNICORN_GRACEFUL_TIMEOUT` | seconds to finish in-flight requests on restart/stop [30] |
| `GUNICORN_KEEPALIVE` | seconds to hold an idle keep-alive connection from nginx [5] |
| `GUNICORN_MAX_REQUESTS` | requests before a worker is recycled (0 = never) [1000] |
| `GUNICORN_FORWARDED_ALLOW_IPS` | proxies whose X-Forwarded-* headers gunicorn trusts [`127.0.0.1,::1`] |
| `LOG_LEVEL` | gunicorn's error-log level, shared with the Django setting [INFO] |

Access and error logs go to stdout/stderr (collected by Docker or journald).
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "sync"  # Django + DRF are synchronous; long I/O goes to Celery
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
timeout = _int("GUNICORN_TIMEOUT", 30)  # seconds; nginx proxy_read_timeout is a bit longer
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # seconds
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # seconds
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat off overlayfs

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s ua="%(a)s"'
proc_name = "stsys-web"
