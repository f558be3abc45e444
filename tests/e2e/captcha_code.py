"""Print the captcha code stored for a uuid, read from the e2e server's Redis (test helper).

Usage: `python tests/e2e/captcha_code.py <uuid>` with the server's REDIS_URL / REDIS_DB_BASE in the
environment. It reads the key `login:verification:<uuid>` of the `verify_codes` Redis database
(API.md §1.7) exactly like apps.users.services stores it; the product has no way to reveal a code.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django_redis import get_redis_connection  # noqa: E402

# apps.users.services stores the code with the raw Redis client of alias `verify_codes`.
raw = get_redis_connection("verify_codes").get(f"login:verification:{sys.argv[1]}")
code = None if raw is None else raw.decode()
if code is None:
    sys.exit(f"no captcha stored for {sys.argv[1]}")
print(code)
