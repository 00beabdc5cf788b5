"""Serving from several processes, each accepting on its own listening socket.

uvicorn's own `--workers` shares one socket among its processes, and whichever process
wakes first accepts most of a burst of new connections: 16 keep-alive clients arrived as
14 on one process and 2 on the other, which then idled while the first queued. Here each
process binds the port itself with SO_REUSEPORT, so the kernel spreads connections over
them (by a hash of the client's address and port), as nginx's `reuseport` does, and
evens out a lopsided split by moving connections (api.connection_balance).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import MutableSequence
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, cast

import uvicorn
from starlette.types import ASGIApp

from api.connection_balance import ConnectionBalance, ConnectionShares, http_connections

log = logging.getLogger(__name__)

APP = "api.app:create_app"
# Chat frames are a few hundred bytes of JSON: compressing each cost the server about a
# tenth of its time at a thousand messages a second and saves almost nothing on the wire.
UVICORN_OPTIONS: dict[str, Any] = {"ws_per_message_deflate": False}
# A thread that wants the GIL back after a round trip (the chat batch writer after each of
# its database and Redis calls, a search after its index read) waits up to this long for
# the thread holding it. At Python's default of 5 ms, a batch of seven round trips could
# wait 35 ms behind a busy event loop.
GIL_SWITCH_SECONDS = 0.001


_SERVER_PROCESS = False


def tune_interpreter() -> None:
    """Settings for a server process (not for tests or the CLI's other commands)."""
    global _SERVER_PROCESS
    _SERVER_PROCESS = True
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def settle_heap() -> None:
    """Once a server process has loaded its tables (jieba, pinyin, the app), move every
    object alive to the collector's permanent generation. Those millions of objects live
    as long as the process, and every full collection walked them: at 1M goods, for-you
    pages then took 60-160 ms now and again (p99 63 ms at one client; 17.5 ms frozen)."""
    if _SERVER_PROCESS:
        gc.collect()
        gc.freeze()


_BACKLOG = 2048
_RESTART_PAUSE_SECONDS = 1.0
_QUICK_EXIT_SECONDS = 10.0
_QUICK_EXITS_TO_GIVE_UP = 3


def _bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that other processes may bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound = socket.socket(family, socket.SOCK_STREAM)
    try:
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        bound.bind((host, port))
    except OSError:
        bound.close()
        raise
    return bound


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` that other processes may bind as well."""
    listener = _bound_socket(host, port)
    listener.listen(_BACKLOG)
    return listener


def _check_free(host: str, port: int) -> None:
    """Fail now, with the reason, if the port cannot be bound (another program holds it)
    rather than have every process fail and be started again."""
    try:
        _bound_socket(host, port).close()
    except OSError as error:
        raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror}") from error


def _serve_one(host: str, port: int, shares: MutableSequence[int], number: int) -> None:
    from api.app import create_app

    tune_interpreter()
    listener = reuse_port_socket(host, port)

    def balanced_app() -> ASGIApp:  # called by server.run, once `server` exists
        connections = cast(set[object], server.server_state.connections)
        balance = ConnectionShares(shares, number, lambda: http_connections(connections))
        return ConnectionBalance(create_app(), balance)

    config = uvicorn.Config(balanced_app, factory=True, host=host, port=port, **UVICORN_OPTIONS)
    server = uvicorn.Server(config)
    server.run(sockets=[listener])


def serve_processes(host: str, port: int, workers: int) -> None:
    """Run `workers` server processes until SIGINT or SIGTERM; one that dies is started
    again. Each stops gracefully (uvicorn finishes the requests in flight)."""
    context = multiprocessing.get_context("spawn")
    stopping = False
    # A shopper's next page may reach another process: all must sign feed cursors alike.
    os.environ.setdefault("FEED_CURSOR_SECRET", secrets.token_hex(32))

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    # Each process's open connections, for evening them out (api.connection_balance).
    shares = context.Array("q", workers, lock=False)

    def start(number: int) -> BaseProcess:
        shares[number] = 0  # a process started again begins empty
        process = context.Process(
            target=_serve_one,
            args=(host, port, shares, number),
            name=f"idlemarket-server-{number}",
        )
        process.start()
        return process

    _check_free(host, port)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(number) for number in range(workers)]
    started_at = [time.monotonic()] * workers
    quick_exits = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for number, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                # A process that cannot even start (bad settings) would only fail again.
                quick = time.monotonic() - started_at[number] < _QUICK_EXIT_SECONDS
                quick_exits = quick_exits + 1 if quick else 0
                if quick_exits >= _QUICK_EXITS_TO_GIVE_UP:
                    raise SystemExit(
                        f"server processes keep exiting at startup ({process.exitcode}); "
                        "see the errors above"
                    )
                log.warning(
                    "server process %s exited (%s); starting it again",
                    process.name,
                    process.exitcode,
                )
                time.sleep(_RESTART_PAUSE_SECONDS)
                processes[number] = start(number)
                started_at[number] = time.monotonic()
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
