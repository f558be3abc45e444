"""Create the e2e accounts and a commodity in the e2e server's database (run before the server).

Run as `python tests/e2e/seed.py` with the server's DATABASE_URL. Prints nothing on success.
Accounts: e2e_teacher (group teacher), e2e_student (group student), password E2E_PASSWORD.
"""

import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402

from apps.users.models import User  # noqa: E402

PASSWORD = os.environ["E2E_PASSWORD"]

for username, group in (("e2e_teacher", "teacher"), ("e2e_student", "student")):
    user, _ = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    user.set_password(PASSWORD)
    user.is_active = True
    user.save()
    user.groups.add(Group.objects.get_or_create(name=group)[0])

from apps.shopping.models import Commodity  # noqa: E402

Commodity.objects.get_or_create(
    name="E2E 笔记本",
    defaults={"description": "端到端测试商品", "price": Decimal("12.50"), "stock": 50},
)
