"""Keeping keep-alive connections spread evenly over the server processes.

Each process listens on its own SO_REUSEPORT socket, and the kernel picks the process of a
new connection by a hash of the client's address and port: 16 connections land 8/8 in
some runs and 10/6 or 12/4 in others. A keep-alive client then stays where it landed,
and the crowded process queues while the other idles (search p99 25 ms at 8/8, 33 ms at
12/4). So the processes publish their open HTTP connection counts in shared memory, and a
process holding more than its fair share (the total divided by the processes, rounded
up) answers one request with `Connection: close`. The client opens a new connection,
which the kernel places afresh; within a few such moves the split is even. A client
loses nothing: the response is whole, and HTTP clients reconnect on `close` as a matter
of course. Sockets upgraded to WebSockets are not counted and never closed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Counting walks the process's connections (WebSockets too), so it is redone at most this
# often; a close takes effect within about a request anyway.
RECOUNT_SECONDS = 0.02
# One connection at a time: the next move waits for the count to show the last one gone
# (or for this long, should the client keep its connection open after all).
MOVE_SETTLE_SECONDS = 0.2
_CLOSE = (b"connection", b"close")


def http_connections(connections: set[object]) -> int:
    """Open HTTP connections among a uvicorn server's (its `server_state.connections`)."""
    return sum(1 for c in connections if isinstance(c, HttpToolsProtocol | H11Protocol))


@dataclass
class ConnectionShares:
    """This process's view of how many connections each server process holds.

    `shares` is shared memory, one slot per process (written by its owner only);
    `count` tells this process's own number."""

    shares: MutableSequence[int]
    number: int
    count: Callable[[], int]
    clock: Callable[[], float] = time.monotonic
    _counted_at: float = field(default=-math.inf, init=False)
    _moved_at: float = field(default=-math.inf, init=False)
    _mine_when_moved: int = field(default=0, init=False)

    def should_move_one(self) -> bool:
        """Whether this request's connection should be closed to even out the split."""
        now = self.clock()
        if now - self._counted_at < RECOUNT_SECONDS:
            return False
        self._counted_at = now
        mine = self.count()
        self.shares[self.number] = mine
        settling = now - self._moved_at < MOVE_SETTLE_SECONDS
        if settling and mine >= self._mine_when_moved:
            return False  # the last connection moved has not gone yet
        fair = math.ceil(sum(self.shares) / len(self.shares))
        if mine <= fair:
            return False
        self._moved_at, self._mine_when_moved = now, mine
        return True


class ConnectionBalance:
    """ASGI middleware: `Connection: close` on a response when `shares` says this process
    holds more than its share of connections."""

    def __init__(self, app: ASGIApp, shares: ConnectionShares) -> None:
        self.app = app
        self.shares = shares

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.shares.should_move_one():
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        await self.app(scope, receive, send_closing)
