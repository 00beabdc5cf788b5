"""`idlemarket serve --workers N`: N processes, each listening on its own socket of the same
port (SO_REUSEPORT, so the kernel spreads connections), one started again if it dies, all
stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from tests.servers import free_port, wait_until_up

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_LISTEN = "0A"  # the state column of /proc/net/tcp
_ESTABLISHED = "01"


def _listening_sockets(port: int) -> int:
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                if int(local.rsplit(":", 1)[1], 16) == port and state == _LISTEN:
                    count += 1
    return count


def _children(pid: int) -> set[int]:
    """The server processes `pid` started (not multiprocessing's resource tracker)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            # Processes that exited but were not yet reaped do not serve anything.
            if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in command:
                found.add(int(entry))
    return found


def _wait_for(condition: str, check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"waited {seconds:.0f} s for {condition}"
        time.sleep(0.1)


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    env = {**os.environ, "IDLEMARKET_HOME": str(tmp_path)}
    for name in ("DATABASE_URL", "REDIS_URL", "MEILI_URL"):
        env.pop(name, None)
    for command in (["db", "upgrade"], ["seed", "--goods", "300"]):
        subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "api", *command],
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "api", "serve", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(
            f"http://127.0.0.1:{port}/api/v1/healthz",
            server,
            seconds=60,
            output=lambda: log.read_text(errors="replace"),
        )
        _wait_for("two listening sockets", lambda: _listening_sockets(port) == 2)
        yield server, port
    finally:
        if server.poll() is None:
            children = _children(server.pid)  # before the parent goes and they move to init
            server.kill()
            for child in children:
                os.kill(child, signal.SIGKILL)
            server.wait()


def test_each_process_listens_and_answers(
    two_processes: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_processes
    assert len(_children(server.pid)) == 2
    # New connections each time: the kernel hashes them over both sockets.
    statuses = {
        httpx2.get(f"http://127.0.0.1:{port}/api/v1/search?q=手机").status_code for _ in range(30)
    }
    assert statuses == {200}


def test_a_feed_cursor_from_one_process_pages_on_the_other(
    two_processes: tuple[subprocess.Popen[bytes], int],
) -> None:
    _, port = two_processes
    base = f"http://127.0.0.1:{port}/api/v1/feed/for-you"
    # Each request on a new connection: over 20 of them both processes answer some.
    cursor = httpx2.get(base, params={"device_id": "d-1"}).json()["next_cursor"]
    assert cursor is not None
    for _ in range(20):
        page = httpx2.get(base, params={"device_id": "d-1", "cursor": cursor})
        assert page.status_code == 200, page.text


def _established_per_process(server_pids: set[int], port: int) -> list[int]:
    """How many established connections to `port` each server process holds."""
    by_inode: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == _ESTABLISHED:
                    by_inode.add(fields[9])
    counts = []
    for pid in server_pids:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        counts.append(sum(1 for link in links if link[len("socket:[") : -1] in by_inode))
    return sorted(counts)


def test_keep_alive_clients_end_up_spread_evenly(
    two_processes: tuple[subprocess.Popen[bytes], int],
) -> None:
    # The kernel's hash alone splits 12 connections 6/6 in about a quarter of runs; the
    # crowded process closes one at a time until the split is even.
    server, port = two_processes
    clients = [
        httpx2.Client(base_url=f"http://127.0.0.1:{port}", limits=httpx2.Limits(max_connections=1))
        for _ in range(12)
    ]
    try:
        deadline = time.monotonic() + 20
        split: list[int] = []
        while time.monotonic() < deadline:
            for client in clients:
                assert client.get("/api/v1/search", params={"q": "手机"}).status_code == 200
            split = _established_per_process(_children(server.pid), port)
            if split == [6, 6]:
                break
        assert split == [6, 6]
        for _ in range(20):  # and once even, it stays so
            for client in clients:
                assert client.get("/api/v1/healthz").status_code == 200
        assert _established_per_process(_children(server.pid), port) == [6, 6]
    finally:
        for client in clients:
            client.close()


def test_a_process_that_dies_is_started_again(
    two_processes: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_processes
    first, _ = sorted(_children(server.pid))
    os.kill(first, signal.SIGKILL)

    def replaced() -> bool:
        children = _children(server.pid)
        return first not in children and len(children) == 2 and _listening_sockets(port) == 2

    _wait_for("a new process in its place, listening", replaced, 60)
    assert httpx2.get(f"http://127.0.0.1:{port}/api/v1/healthz").status_code == 200


def test_sigterm_stops_every_process(two_processes: tuple[subprocess.Popen[bytes], int]) -> None:
    server, port = two_processes
    children = _children(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    assert all(not Path(f"/proc/{child}").exists() for child in children)
    assert _listening_sockets(port) == 0


def test_a_port_in_use_is_refused_at_once_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        completed = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "api", "serve", "--workers", "2", "--port", str(port)],
            env={**os.environ, "IDLEMARKET_HOME": str(tmp_path)},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in completed.stderr


def test_only_a_server_process_tunes_the_interpreter_and_freezes_its_startup_heap() -> None:
    script = (
        "import gc, sys\n"
        "from api import serving\n"
        "serving.settle_heap()\n"  # a test or a CLI command: nothing frozen
        "before = gc.get_freeze_count()\n"
        "serving.tune_interpreter()\n"
        "serving.settle_heap()\n"
        "print(before, gc.get_freeze_count() > 0, sys.getswitchinterval())\n"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["0", "True", "0.001"]
