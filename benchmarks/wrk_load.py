"""Closed-loop HTTP load from `wrk` (Debian's package), a load generator written in C: it
costs the two shared cores far less than Python client threads, so the figures describe
the server rather than the clients competing with it.

Each connection is one client: it sends a request, waits for the whole answer, and sends
the next, cycling through the given request targets from its own starting point.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Each wrk thread has its own Lua state. `init` reads the targets and starts at its own
# offset; `done` prints the figures as one JSON line (latencies in microseconds).
_SCRIPT = r"""
local targets = {}
for line in io.lines(os.getenv("WRK_TARGETS")) do targets[#targets + 1] = line end
local method = os.getenv("WRK_METHOD")
local body = nil
if os.getenv("WRK_BODY") ~= "" then
  local file = io.open(os.getenv("WRK_BODY"), "rb"); body = file:read("*a"); file:close()
end
local headers = {}
if body then headers["Content-Type"] = "application/json" end
local next_index = 1
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("offset", thread_counter)
end

function init(args)
  next_index = ((offset or 1) * 7919) % #targets + 1
end

function request()
  local target = targets[next_index]
  next_index = next_index % #targets + 1
  return wrk.format(method, target, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "non_2xx": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class WrkFigures:
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    failures: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_per_s": round(self.requests_per_s, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "requests": self.requests,
            "failures": self.failures,
        }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_load(
    base: str,
    targets: Sequence[str],
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    method: str = "GET",
    body: bytes | None = None,
) -> WrkFigures:
    """`connections` concurrent clients for `seconds` against `base`, cycling through
    `targets` (paths with their query strings); `body` goes with every request."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    if not targets:
        raise ValueError("no request targets")
    with tempfile.TemporaryDirectory(prefix="wrk-") as folder:
        script = Path(folder, "load.lua")
        script.write_text(_SCRIPT, encoding="utf-8")
        target_file = Path(folder, "targets.txt")
        target_file.write_text("\n".join(targets) + "\n", encoding="utf-8")
        body_file = Path(folder, "body.json")
        if body is not None:
            body_file.write_bytes(body)
        env = {
            **os.environ,
            "WRK_TARGETS": str(target_file),
            "WRK_METHOD": method,
            "WRK_BODY": str(body_file) if body is not None else "",
        }
        completed = subprocess.run(
            [
                wrk,
                f"--threads={min(threads, connections)}",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                "--timeout=30s",
                f"--script={script}",
                base,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    failures = sum(
        report[key]
        for key in ("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts")
    )
    return WrkFigures(
        requests_per_s=report["requests"] / (report["duration_us"] / 1e6),
        p50_ms=report["p50_us"] / 1000,
        p90_ms=report["p90_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        max_ms=report["max_us"] / 1000,
        requests=report["requests"],
        failures=failures,
    )
