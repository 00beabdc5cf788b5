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

# `done` prints the figures as one JSON line (latencies in microseconds).
_DONE = r"""
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

# Each wrk thread has its own Lua state. `init` reads the targets and starts at its own
# offset; `done` prints the figures as one JSON line (latencies in microseconds).
_SCRIPT = (
    r"""
local function lines(path)
  local found = {}
  for line in io.lines(path) do found[#found + 1] = line end
  return found
end
local function slurp(path)
  local file = io.open(path, "rb"); local text = file:read("*a"); file:close(); return text
end
local targets = lines(os.getenv("WRK_TARGETS"))
local method = os.getenv("WRK_METHOD")
local bodies = {}
for _, path in ipairs(lines(os.getenv("WRK_BODIES"))) do bodies[#bodies + 1] = slurp(path) end
local token = os.getenv("WRK_TOKEN")
local headers = {}
if #bodies > 0 then headers["Content-Type"] = "application/json" end
local next_index = 1
local sent = 0
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("offset", thread_counter)
end

function init(args)
  next_index = ((offset or 1) * 7919) % #targets + 1
end

function request()
  local index = next_index
  next_index = next_index % #targets + 1
  sent = sent + 1
  local body = nil
  if #bodies > 0 then
    body = bodies[(index - 1) % #bodies + 1]
    if token ~= "" then
      -- A string of its own for every request (a device id, say): plain find, no patterns.
      local start, stop = body:find(token, 1, true)
      while start do
        body = body:sub(1, start - 1) .. "wrk" .. (offset or 0) .. "x" .. sent .. body:sub(stop + 1)
        start, stop = body:find(token, start + 1, true)
      end
    end
  end
  return wrk.format(method, targets[index], headers, body)
end
"""
    + _DONE
)

# Shoppers scrolling the for-you feed: one connection per wrk thread, so each response
# answers the thread's own last request; it follows `next_cursor` for `WRK_PAGES` pages,
# then the next device of its own starts afresh.
_FEED_SCRIPT = (
    r"""
local devices = {}
for line in io.lines(os.getenv("WRK_DEVICES")) do devices[#devices + 1] = line end
local path = os.getenv("WRK_PATH")
local pages = tonumber(os.getenv("WRK_PAGES"))
local thread_counter = 0
local device_index, cursor, page = 1, nil, 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("offset", thread_counter)
end

function init(args)
  device_index = (offset or 1) % #devices + 1
end

function request()
  local target = path .. "?device_id=" .. devices[device_index]
  if cursor then target = target .. "&cursor=" .. cursor end
  return wrk.format("GET", target)
end

function response(status, headers, body)
  page = page + 1
  cursor = (status == 200 and page < pages) and body:match('"next_cursor":"([^"]+)"') or nil
  if not cursor then
    page = 0
    device_index = (device_index + 17) % #devices + 1
  end
end
"""
    + _DONE
)


@dataclass(frozen=True)
class WrkFigures:
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    failures: int
    seconds: float

    def as_dict(self, *, rate_key: str = "requests_per_second") -> dict[str, Any]:
        """The figures for a report; `rate_key` names the rate the way the report does."""
        return {
            "requests": self.requests,
            rate_key: round(self.requests_per_s, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "failures": self.failures,
            "seconds": round(self.seconds, 2),
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
    bodies: Sequence[bytes] = (),
    unique_token: str = "",
) -> WrkFigures:
    """`connections` concurrent clients for `seconds` against `base`, cycling through
    `targets` (paths with their query strings) and, in step, through `bodies`; every
    occurrence of `unique_token` in a body becomes a string of that request's own."""
    if not targets:
        raise ValueError("no request targets")
    with tempfile.TemporaryDirectory(prefix="wrk-") as folder:
        work = Path(folder)
        (work / "targets.txt").write_text("\n".join(targets) + "\n", encoding="utf-8")
        body_paths = []
        for number, body in enumerate(bodies):
            body_paths.append(work / f"body-{number}.json")
            body_paths[-1].write_bytes(body)
        (work / "bodies.txt").write_text("".join(f"{p}\n" for p in body_paths), encoding="utf-8")
        env = {
            "WRK_TARGETS": str(work / "targets.txt"),
            "WRK_METHOD": method,
            "WRK_BODIES": str(work / "bodies.txt"),
            "WRK_TOKEN": unique_token,
        }
        return _run(base, _SCRIPT, env, work, connections, min(threads, connections), seconds)


def wrk_feed_load(
    base: str, path: str, devices: Sequence[str], *, pages: int, connections: int, seconds: float
) -> WrkFigures:
    """`connections` shoppers, each a device of `devices` scrolling `pages` pages of the
    feed at `path` by its `next_cursor`, then the next device."""
    if not devices:
        raise ValueError("no devices")
    with tempfile.TemporaryDirectory(prefix="wrk-") as folder:
        work = Path(folder)
        (work / "devices.txt").write_text("\n".join(devices) + "\n", encoding="utf-8")
        env = {"WRK_DEVICES": str(work / "devices.txt"), "WRK_PATH": path, "WRK_PAGES": str(pages)}
        # One connection per thread: a thread's responses then answer its own requests.
        return _run(base, _FEED_SCRIPT, env, work, connections, connections, seconds)


def _run(
    base: str,
    script: str,
    env: dict[str, str],
    work: Path,
    connections: int,
    threads: int,
    seconds: float,
) -> WrkFigures:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    (work / "load.lua").write_text(script, encoding="utf-8")
    completed = subprocess.run(
        [
            wrk,
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=30s",
            f"--script={work / 'load.lua'}",
            base,
        ],
        env={**os.environ, **env},
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
        seconds=report["duration_us"] / 1e6,
    )
