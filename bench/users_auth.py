"""Benchmark of the users app's hot anon paths: captcha drawing and the full login flow.

Run: `.venv/bin/python bench/users_auth.py [N]` (embedded default or any DATABASE_URL/REDIS_URL).
Prints figures and writes `bench/results/users_auth.json`. Uses a throw-away test database and
the production password hasher (so a login costs one real PBKDF2 check; `n // 10` logins).
"""

import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test.utils import setup_test_environment  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(n: int) -> dict:
    from django.conf import settings
    from django.db import connection
    from rest_framework.test import APIClient

    from apps.users import throttles
    from apps.users.tests.conftest import stored_code
    from apps.users.tests.factories import DEFAULT_PASSWORD, UserFactory
    from utils.captcha import generate_code, render_png

    for cls in (throttles.CaptchaThrottle, throttles.LoginThrottle):
        cls.rate = "100000/min"
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        draw = []
        for _ in range(n):
            t = time.perf_counter()
            render_png(generate_code())
            draw.append((time.perf_counter() - t) * 1000)
        user = UserFactory()
        client = APIClient()
        captcha, login = [], []
        for i in range(n):
            key = str(uuid.uuid4())
            t = time.perf_counter()
            assert client.get(f"/api/users/image/verification/{key}/").status_code == 200
            captcha.append((time.perf_counter() - t) * 1000)
            if i % 10:
                continue
            body = {"username": user.username, "password": DEFAULT_PASSWORD, "uuid": key}
            t = time.perf_counter()
            response = client.post("/api/users/login/", {**body, "verify": stored_code(key)})
            login.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.content
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    def summary(values: list[float]) -> dict:
        return {
            "median_ms": round(statistics.median(values), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
        }

    return {
        "n": n,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "redis": bool(settings.REDIS_URL),
        "password_hasher": settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1],
        "captcha_draw": summary(draw),
        "captcha_endpoint": summary(captcha),
        "login_endpoint": summary(login),
    }


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "users_auth.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
