"""Real `idlemarket` server processes for tests (and benchmarks) that talk to them over
HTTP: a free port, waiting until one answers its health check, and stopping it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[Any], *, seconds: float, output: Callable[[], str]
) -> None:
    """Return once `url` answers 200. Fail with the server's `output()` if it exits first,
    or when `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{output()}")
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.2)


def stop(process: subprocess.Popen[Any], *, seconds: float = 30.0) -> None:
    """SIGTERM (a server finishes its requests in flight), then SIGKILL after `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
