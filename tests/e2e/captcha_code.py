"""Print the captcha code stored for a uuid, read from the e2e server's Redis (test helper).

Usage: `python tests/e2e/captcha_code.py <uuid>` with the server's REDIS_URL / REDIS_DB_BASE in the
environment. It reads the cache entry `login:verification:<uuid>` of alias `verify_codes`
(API.md §1.7) exactly like the server stores it; the product has no way to reveal a code.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import caches  # noqa: E402

code = caches["verify_codes"].get(f"login:verification:{sys.argv[1]}")
if code is None:
    sys.exit(f"no captcha stored for {sys.argv[1]}")
print(code)
