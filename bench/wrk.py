"""What the wrk-driven benchmarks share (`bench/load.py`, `bench/orders.py`): the Lua request
table a script walks, and one wrk run read back from the `BENCHJSON {...}` line its `done()` prints.

Each benchmark keeps its own Lua script (what it counts differs); the table is
`{{method, path, {[header] = value, ...}, body or nil}, ...}`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


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
