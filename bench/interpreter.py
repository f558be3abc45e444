"""The same load scenarios served by two Python interpreters: how much the interpreter build costs.

Run: `.venv/bin/python bench/interpreter.py --python /root/.pyenv/versions/3.11.7/bin/python3
[--rounds 2] [--only search_uncached ...] [--duration 10] [--warmup 2]`.

The project's `.venv` (made by `make venv` from `/usr/bin/python3`, Debian's build) is compared with
a venv of `--python` (e.g. a python3 compiled from source without `--enable-optimizations`, as
pyenv does by default), created once under `var/bench-interp/` with the runtime requirements.
Each round runs `bench/load.py --paired --only <scenarios> --gunicorn <venv>/bin/gunicorn` once per
interpreter, alternating, so drift of the shared machine hits both alike. Only the web processes
change: wrk, MariaDB, Redis and Elasticsearch are the same. Prints a table and writes
`bench/results/interpreter.json` (per run: req/s, p50/p95 in ms, ratio to the adjacent bare runs,
CPU ms per request of the web processes and of all processes; each interpreter's `CONFIG_ARGS`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench-interp"
OUT = ROOT / "bench" / "results" / "interpreter.json"


def say(message: str) -> None:
    print(f"== {message}", flush=True)


def venv_for(python: str) -> Path:
    """A venv of `python` with requirements.txt, reused while the requirements are unchanged."""
    requirements = (ROOT / "requirements.txt").read_bytes()
    slug = hashlib.sha256(python.encode()).hexdigest()[:10]
    venv = WORK / f"venv-{slug}"
    stamp = venv / "requirements.sha256"
    digest = hashlib.sha256(requirements).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return venv
    say(f"creating {venv.relative_to(ROOT)} with {python}")
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    stamp.write_text(digest)
    return venv


def load_run(label: str, number: int, gunicorn: Path, args: argparse.Namespace) -> dict:
    out = WORK / f"{label}-{number}.json"
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--paired",
               "--only", *args.only, "--duration", str(args.duration),
               "--warmup", str(args.warmup), "--gunicorn", str(gunicorn),
               "--out", str(out.relative_to(ROOT))]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the interpreter to compare with .venv's")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="+", default=["search_uncached"])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    servers = {
        "project": ROOT / ".venv" / "bin" / "gunicorn",
        "other": venv_for(args.python) / "bin" / "gunicorn",
    }
    runs: dict[str, list[dict]] = {label: [] for label in servers}
    pythons: dict[str, dict] = {}
    for number in range(1, args.rounds + 1):
        for label, gunicorn in servers.items():
            result = load_run(label, number, gunicorn, args)
            pythons[label] = result["server_python"]
            for name in args.only:
                scenario = result["scenarios"][name]
                cpu = scenario["cpu_ms_per_request"]
                runs[label].append({
                    "round": number, "scenario": name, "req_per_s": scenario["req_per_s"],
                    "p50_ms": scenario["p50_ms"], "p95_ms": scenario["p95_ms"],
                    "ratio_to_bare": scenario["ratio_to_bare"],
                    "cpu_ms_web": cpu.get("web"), "cpu_ms_total": cpu.get("total"),
                })  # fmt: skip
                say(f"round {number} {label:>7} ({pythons[label]['version']}) {name}: "
                    f"{scenario['req_per_s']:.0f} req/s, p95 {scenario['p95_ms']:.1f} ms, "
                    f"× bare {scenario['ratio_to_bare']:.2f}, web CPU {cpu.get('web')} ms")  # fmt: skip
    summary = {}
    lines = ["| interpreter | scenario | req/s (mean) | p95 ms (runs) | × bare (runs) | "
             "web CPU ms/req (mean) |", "|---|---|---:|---|---|---:|"]  # fmt: skip
    for label, rows in runs.items():
        for name in args.only:
            mine = [r for r in rows if r["scenario"] == name]
            entry = {
                "req_per_s_mean": round(statistics.mean(r["req_per_s"] for r in mine), 1),
                "p95_ms": [r["p95_ms"] for r in mine],
                "ratio_to_bare": [r["ratio_to_bare"] for r in mine],
                "cpu_ms_web_mean": round(statistics.mean(r["cpu_ms_web"] for r in mine), 2),
            }
            summary.setdefault(label, {})[name] = entry
            lines.append(
                f"| {label} {pythons[label]['version']} | {name} | {entry['req_per_s_mean']:.0f} | "
                f"{', '.join(f'{v:.1f}' for v in entry['p95_ms'])} | "
                f"{', '.join(f'{v:.2f}' for v in entry['ratio_to_bare'])} | "
                f"{entry['cpu_ms_web_mean']:.2f} |"
            )
    result = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "pythons": pythons,
        "runs": runs,
        "summary": summary,
    }
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print("\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
