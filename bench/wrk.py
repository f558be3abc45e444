"""What the wrk-driven benchmarks share (`bench/load.py`, `bench/orders.py`): the Lua request
table a script walks, one wrk run read back from the `BENCHJSON {...}` line its `done()` prints,
and the CPU the server side spent meanwhile.

Each benchmark keeps its own Lua script (what it counts differs); the table is
`{{method, path, {[header] = value, ...}, body or nil}, ...}`.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# The start of every generated script (a `%`-template: `%(table)s` is the request table). wrk
# thread i of k sends entries first + i, first + i + k, ... (`init` of the script sets the globals
# `first`, `stride` and `n = 0` from its arguments); in `done`, `last_index()` is the first entry
# no thread reached, where a run that must not resend an entry starts the next one.
WALK_LUA = r"""
local reqs = %(table)s
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function next_request()
  local i = first + tid + n * stride
  n = n + 1
  return i, reqs[(i %% #reqs) + 1]
end
function last_index()
  local last = 0
  for _, t in ipairs(threads) do
    local used = t:get("first") + t:get("tid") + t:get("n") * t:get("stride")
    if used > last then last = used end
  end
  return last
end
"""


def lua_string(value: str) -> str:
    """`value` as a double-quoted Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_request_table(requests: Iterable[Mapping[str, Any]]) -> str:
    """The Lua table of `requests` (`path`, `headers`, optional `method` [GET] and `body`)."""
    rows = []
    for r in requests:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in r["headers"].items())
        body = lua_string(r["body"]) if r.get("body") else "nil"
        method = lua_string(r.get("method", "GET"))
        rows.append(f"{{{method}, {lua_string(r['path'])}, {{{headers}}}, {body}}}")
    return "{\n" + ",\n".join(rows) + "\n}"


def run(
    script: Path,
    *,
    url: str,
    seconds: float,
    threads: int,
    connections: int,
    script_args: Iterable[Any] = (),
    request_timeout: str = "10s",
    grace: float = 60.0,
) -> dict[str, Any]:
    """One `wrk` run of `script` against `url` for `seconds` (`threads` threads, `connections`
    connections, `script_args` after `--`); returns the JSON of the script's `BENCHJSON` line.

    Raises `SystemExit` when wrk prints no summary, `subprocess.CalledProcessError` when it fails,
    `subprocess.TimeoutExpired` after `seconds + grace` seconds.
    """
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
           "--timeout", request_timeout, "-s", str(script), url, "--",
           *(str(a) for a in script_args)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + grace, check=True)
    match = re.search(r"^BENCHJSON (.*)$", out.stdout, re.M)
    if not match:
        raise SystemExit(f"wrk gave no summary:\n{out.stdout}\n{out.stderr}")
    return json.loads(match.group(1))


CPU_GROUPS = {  # group: how a process is recognised by psutil name / command line
    "elasticsearch": lambda name, cmd: name == "java" and "elasticsearch" in cmd,
    "mariadb": lambda name, cmd: name in ("mariadbd", "mysqld"),
    "redis": lambda name, cmd: name == "redis-server",
}


def cpu_seconds(server_pid: int | None) -> dict[str, float]:
    """User + system CPU seconds used so far, by group: `web` (the gunicorn master `server_pid`
    and its workers), `elasticsearch`, `mariadb` and `redis` (every such process on the machine,
    psutil), and `wrk` (this process's finished children, getrusage)."""
    import psutil

    totals = dict.fromkeys(("web", *CPU_GROUPS), 0.0)
    web: set[int] = set()
    if server_pid:
        try:
            master = psutil.Process(server_pid)
            web = {server_pid, *(p.pid for p in master.children(recursive=True))}
        except psutil.NoSuchProcess:
            pass
    for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        times = proc.info["cpu_times"]
        if times is None:
            continue
        if proc.pid in web:
            totals["web"] += times.user + times.system
            continue
        name, cmd = proc.info["name"] or "", " ".join(proc.info["cmdline"] or ())
        for group, matches in CPU_GROUPS.items():
            if matches(name, cmd):
                totals[group] += times.user + times.system
                break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals["wrk"] = usage.ru_utime + usage.ru_stime
    return totals


def cpu_ms_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict:
    """CPU milliseconds per request by group between two `cpu_seconds` snapshots (groups that
    spent nothing left out), plus `total`."""
    spent = {g: after[g] - before.get(g, 0.0) for g in after}
    out = {g: round(v * 1000 / max(requests, 1), 2) for g, v in sorted(spent.items()) if v > 0}
    out["total"] = round(sum(spent.values()) * 1000 / max(requests, 1), 2)
    return out
