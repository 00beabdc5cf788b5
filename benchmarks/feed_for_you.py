"""For-you pages again, on the database and Redis scores a `feed_bench.py` run left behind:
wrk at 16 clients and at 1, with the CPU each page cost the server processes, PostgreSQL
and Redis. Made for comparing code changes (run it from two checkouts in turn, several
times: this machine's speed drifts) without the minutes of loading a full run takes.

    .venv/bin/python benchmarks/feed_for_you.py \\
        --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/feed_bench [--seconds 10]

Needs wrk (apt-get install wrk) and Linux (CPU times come from /proc). The CPU figures
cover the whole wrk run, its start included, divided by the pages answered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from feed_bench import (
    FEED_CLIENTS,
    FEED_PROCESSES,
    FOR_YOU,
    FOR_YOU_PAGES,
    REDIS_URL,
    WARMUP_SECONDS,
    event_rows,
    server_env,
    serving,
)
from measure import say
from wrk_load import wrk_available, wrk_feed_load

MAX_DEVICES = 50_000  # wrk reads the list in every thread: more only slows its start
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a process, or 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _processes() -> list[tuple[int, str, int]]:
    """(pid, command name, parent pid) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            found.append((int(entry.name), name, parent))
    return found


def cpu_by_part(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server's processes, of PostgreSQL's and of Redis's."""
    totals = {"server": 0.0, "postgres": 0.0, "redis": 0.0}
    for pid, name, parent in _processes():
        if parent == server_pid:
            totals["server"] += _cpu_seconds(pid)
        elif name.startswith("postgres"):
            totals["postgres"] += _cpu_seconds(pid)
        elif name.startswith("redis"):
            totals["redis"] += _cpu_seconds(pid)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", required=True, help="the database feed_bench.py loaded")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not wrk_available():
        sys.exit("wrk is not installed: apt-get install wrk")
    # feed_bench.py gave every 20 events a device of their own: these have a history.
    count = max(1_000, event_rows(args.postgres) // 20)
    step = max(1, count // MAX_DEVICES)
    devices = [f"dev-{n:07d}" for n in range(0, count, step)]
    report: dict[str, object] = {"devices": len(devices), "pages_per_shopper": FOR_YOU_PAGES}
    with tempfile.TemporaryDirectory(prefix="for-you-") as folder:
        home = Path(folder)
        env = server_env(home, database_url=args.postgres, redis_url=REDIS_URL)
        with serving(env, home / "server.log", workers=FEED_PROCESSES) as server:
            wrk_feed_load(
                server.base,
                FOR_YOU,
                devices,
                pages=FOR_YOU_PAGES,
                connections=FEED_CLIENTS,
                seconds=WARMUP_SECONDS,
            )
            for clients in (FEED_CLIENTS, 1):
                before, started = cpu_by_part(server.process.pid), time.perf_counter()
                figures = wrk_feed_load(
                    server.base,
                    FOR_YOU,
                    devices,
                    pages=FOR_YOU_PAGES,
                    connections=clients,
                    seconds=args.seconds,
                )
                wall = time.perf_counter() - started
                after = cpu_by_part(server.process.pid)
                pages = max(1, figures.requests)
                row = {
                    **figures.as_dict(rate_key="pages_per_second"),
                    "cpu_ms_per_page": {
                        part: round(1000 * (after[part] - before[part]) / pages, 3)
                        for part in after
                    },
                    "cores_busy": {
                        part: round((after[part] - before[part]) / wall, 2) for part in after
                    },
                }
                say(f"{clients} client(s): {json.dumps(row)}")
                report[f"{clients}_clients" if clients > 1 else "1_client"] = row
            report["server_errors"] = server.errors()[:5]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
