"""Bench-only settings (`bench/load.py`): the project's settings, plus the bench URLconf on demand.

`DJANGO_SETTINGS_MODULE=bench.settings`. With `BENCH_BARE_URLS=1` (read here only, never by the
product's settings) `ROOT_URLCONF` becomes `bench.bare_urls`: the project's URLs plus
`/bench/bare/`, a bare Django JSON view used as the throughput ceiling of a load run.
"""

import os

from config.settings import *  # noqa: F403

if os.environ.get("BENCH_BARE_URLS", "").lower() in ("1", "true", "yes"):
    ROOT_URLCONF = "bench.bare_urls"
