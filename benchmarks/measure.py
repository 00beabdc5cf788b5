"""What every benchmark script needs: progress lines, percentiles, a free local port, and
how busy the machine was."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The server-process helpers the tests use, rather than copies of them here.
sys.path.insert(0, str(PROJECT_ROOT))
from tests.servers import free_port, stop, wait_until_up  # noqa: E402

__all__ = [
    "PROJECT_ROOT",
    "api_server",
    "elapsed",
    "free_port",
    "load_averages",
    "machine",
    "percentile",
    "say",
]

_started = time.monotonic()


def elapsed() -> float:
    """Seconds since the script started."""
    return time.monotonic() - _started


def say(message: str) -> None:
    """A progress line on stderr (stdout carries the JSON report)."""
    print(f"[{elapsed():7.1f}s] {message}", file=sys.stderr, flush=True)


def load_averages() -> list[float]:
    """The 1-, 5- and 15-minute load averages: other work sharing the cores shows here."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, object]:
    """The machine a report's figures come from, and how busy it was at the start."""
    return {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        # Other work on the machine skews every figure; this says how busy it was.
        "load_average_at_start": load_averages(),
    }


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (p99 of 2,000 values is the 20th slowest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


@contextmanager
def api_server(
    env: dict[str, str], *, workers: int = 1, log: Path | None = None, timeout: float = 90.0
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`idlemarket serve` in a subprocess with `env`, once its health check answers; yields
    the process and its base URL, and stops it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "api", "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    output = log.open("wb") if log else None
    process = subprocess.Popen(
        command,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(
            f"{base}/api/v1/healthz",
            process,
            seconds=timeout,
            output=lambda: log.read_text(errors="replace") if log else "(not logged)",
        )
        yield process, base
    finally:
        stop(process, seconds=30)
        if output:
            output.close()
