"""Machine instructions per request in the web process: a cost figure that the VM's speed does not move.

Run after `bench/load.py` has seeded `stsys_bench` (same services):
`.venv/bin/python bench/instructions.py [scenario ...] [--requests 200]` (needs valgrind:
`apt-get install -y valgrind`). For each scenario of `bench/load_profile.py` (bare, area,
topics_warm, topics_uncached, search, search_uncached, thread; references ref_area_stateless, ref_area_stock) it runs the requests in one process
through Django's full WSGI stack (`django.test.Client`: middleware, DRF, auth, throttles, caches)
under `valgrind --tool=cachegrind --cache-sim=no`, once with 0 and once with `--requests` measured
requests after the same warm-up, and reports (difference of the two instruction counts) / requests.
Only the web process is counted: MariaDB, Redis and Elasticsearch run in their own processes, and the
network round trips to them count as the client-side work they cause. Counts are repeatable to about
1% between runs with the same `--requests`, unlike CPU seconds on this shared VM (bench/load.py), so
they show what a code change saves; compare only counts taken with the same `--requests` (area
measured 1.73 M at 100 and 1.85–1.87 M at 200). Writes `bench/results/instructions.json`.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "instructions.json"
SCENARIOS = (
    "bare",
    "area",
    "topics_warm",
    "topics_uncached",
    "search",
    "search_uncached",
    "thread",
    "ref_area_stateless",
    "ref_area_stock",
)
WARMUP = 30  # requests before the counted ones, in both runs

RUNNER = """
import sys
sys.path.insert(0, {root!r})
from bench import load  # the bench environment and django.setup()
from bench.load_profile import requester

name, measured = sys.argv[1], int(sys.argv[2])
one = requester(name, tag="i")
for i in range({warmup} + measured):
    status = one()
    if status != 200:
        raise SystemExit(f"{{name}}: request {{i}} answered {{status}}")
"""


def instructions(name: str, measured: int) -> int:
    """Instructions (cachegrind `I refs`) of one runner process doing `measured` requests."""
    runner = ROOT / "var" / "bench-load" / "instructions_runner.py"
    runner.parent.mkdir(parents=True, exist_ok=True)
    runner.write_text(RUNNER.format(root=str(ROOT), warmup=WARMUP))
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, str(runner), name, str(measured)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{name}: runner failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    match = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if not match:
        raise SystemExit(f"{name}: no instruction count in valgrind's output")
    return int(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--requests", type=int, default=200, help="counted requests per scenario")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind not found: apt-get install -y valgrind")
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {sorted(unknown)}")
    results = {}
    for name in args.scenarios:
        began = time.perf_counter()
        base, loaded = instructions(name, 0), instructions(name, args.requests)
        per_request = (loaded - base) / args.requests
        results[name] = {"instructions_per_request": round(per_request), "requests": args.requests}
        print(f"{name:>16}: {per_request / 1e6:6.3f} M instructions/request "
              f"({time.perf_counter() - began:.0f} s)", flush=True)  # fmt: skip
    if "bare" in results:
        bare = results["bare"]["instructions_per_request"]
        for result in results.values():
            result["times_bare"] = round(result["instructions_per_request"] / bare, 2)
    OUT.write_text(json.dumps({
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "warmup_requests": WARMUP,
        "scenarios": results,
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
