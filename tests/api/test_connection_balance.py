"""When a server process gives up one of its keep-alive connections to even out the split
(the two-process behaviour is in test_serving)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.connection_balance import (
    MOVE_SETTLE_SECONDS,
    RECOUNT_SECONDS,
    ConnectionBalance,
    ConnectionShares,
)


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _shares(mine: list[int], others: list[int], clock: Clock) -> ConnectionShares:
    """Process 0 holds mine[0] connections; the others hold what their slots say."""
    return ConnectionShares([0, *others], 0, lambda: mine[0], clock)


def test_a_process_within_its_share_keeps_its_connections() -> None:
    clock = Clock()
    for mine, others in (([8], [8]), ([9], [8]), ([6], [10]), ([0], [0])):
        assert not _shares(mine, others, clock).should_move_one()


def test_a_crowded_process_gives_up_one_connection_at_a_time() -> None:
    clock, mine = Clock(), [10]
    shares = _shares(mine, [6], clock)
    assert shares.should_move_one()
    assert shares.shares[0] == 10  # published for the other processes
    clock.advance(RECOUNT_SECONDS)
    assert not shares.should_move_one()  # the moved connection has not gone yet
    mine[0] = 9  # it went (and its client came back on the other process)
    clock.advance(RECOUNT_SECONDS)
    assert shares.should_move_one()
    mine[0] = 8
    clock.advance(RECOUNT_SECONDS)
    assert not shares.should_move_one()  # 8 of 16: even


def test_a_connection_that_came_back_is_moved_again_after_a_pause() -> None:
    clock, mine = Clock(), [10]
    shares = _shares(mine, [6], clock)
    assert shares.should_move_one()
    clock.advance(MOVE_SETTLE_SECONDS / 2)
    assert not shares.should_move_one()  # still 10: the kernel placed it here again
    clock.advance(MOVE_SETTLE_SECONDS)
    assert shares.should_move_one()


def test_counting_waits_between_looks() -> None:
    clock, mine = Clock(), [12]
    shares = _shares(mine, [4], clock)
    assert shares.should_move_one()
    mine[0] = 11
    clock.advance(RECOUNT_SECONDS / 4)
    assert not shares.should_move_one()  # too soon to count again
    clock.advance(RECOUNT_SECONDS)
    assert shares.should_move_one()


async def _ok(_request: object) -> PlainTextResponse:
    return PlainTextResponse("ok", headers={"x-kept": "yes"})


@pytest.mark.parametrize(("mine", "expected"), [(10, "close"), (6, None)])
def test_the_moved_connection_is_told_to_close_and_gets_its_whole_answer(
    mine: int, expected: str | None
) -> None:
    shares = _shares([mine], [6], Clock())
    app = ConnectionBalance(Starlette(routes=[Route("/", _ok)]), shares)

    async def get() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/")

    response = asyncio.run(get())
    assert response.text == "ok"
    assert response.headers["x-kept"] == "yes"
    assert response.headers.get("connection") == expected
