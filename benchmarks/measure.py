"""What every benchmark script needs: progress lines, percentiles, a free local port, and
how busy the machine was."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2

PROJECT_ROOT = Path(__file__).resolve().parent.parent

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API server exited with {process.returncode}")
            try:
                if httpx2.get(f"{base}/api/v1/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start within {timeout:.0f} s")
            time.sleep(0.3)
        yield process, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if output:
            output.close()
