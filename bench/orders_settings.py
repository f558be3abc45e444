"""Settings for `bench/orders.py`'s gunicorn: the project's settings plus the bench URLconf.

`BENCH_ISOLATION` (`read committed` | `repeatable read`) sets the MariaDB isolation level, and
lock waits are bounded (5 s) so a stalled seed-style request fails instead of hanging.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "bench.urls"
_options = DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"].endswith("mysql"):
    _options["isolation_level"] = os.environ.get("BENCH_ISOLATION", "read committed")
    _options["init_command"] = "SET sql_mode='STRICT_TRANS_TABLES', innodb_lock_wait_timeout=5"
