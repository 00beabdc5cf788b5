"""Messages sent over live sockets, committed in batches.

A socket's `send` frame does not wait for a transaction of its own. Frames queue in
arrival order; one writer at a time commits everything queued (up to MAX_BATCH) in one
transaction, and what arrives meanwhile waits for the next. A quiet server commits each
message at once; a busy one commits many per transaction and per round trip (group
commit), which is what lets one process take a thousand messages a second. The commit
announces each message as a POSTed one would, so sockets everywhere receive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from api.ratelimit import RateLimiter
from catalog.conversations import service as conversations
from catalog.conversations.models import Message
from catalog.db import unit_of_work
from catalog.errors import CatalogError, RateLimited, TryAgain

log = logging.getLogger(__name__)
MAX_BATCH = 500
Posted = dict[str, Any] | CatalogError  # the message as sockets receive it, or a refusal


@dataclass(frozen=True)
class MessageBudget:
    """How many messages one user may send a minute, over every server."""

    limiter: RateLimiter
    per_minute: int

    def allows(self, user_id: int) -> bool:
        return not self.refuses({user_id: 1})

    def refuses(self, messages: Mapping[int, int]) -> set[int]:
        """Count each user's messages; the users now over budget (one round trip)."""
        keys = {f"messages:user:{user}": n for user, n in messages.items()}
        verdicts = self.limiter.hit_many(keys, limit=self.per_minute, window_seconds=60)
        return {user for user, key in zip(messages, keys, strict=True) if not verdicts[key]}


def over_budget() -> RateLimited:
    return RateLimited("too many messages in a minute; slow down", code="rate_limited")


class MessageBatches:
    """One per server process: `submit` from the event loop, commits on a worker thread."""

    def __init__(
        self,
        factory: Callable[[], sessionmaker[Session]],
        budget: MessageBudget,
        clock: Callable[[], datetime],
    ) -> None:
        # Read at each commit: tests point the app at their own connection and clock.
        self._factory = factory
        self._budget = budget
        self._clock = clock
        self._queued: list[tuple[conversations.Draft, asyncio.Future[dict[str, Any]]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def submit(self, draft: conversations.Draft) -> asyncio.Future[dict[str, Any]]:
        """Queue a message; the future gives it as sockets receive it once committed, or
        raises the CatalogError that refused it."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._queued.append((draft, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        self._wake.set()
        return future

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write(self) -> None:
        # The one writer: each batch waits for the last one's commit, so a second
        # transaction never contends for the same conversations' rows.
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queued:
                batch, self._queued = self._queued[:MAX_BATCH], self._queued[MAX_BATCH:]
                drafts = [draft for draft, _ in batch]
                try:
                    posted = await to_thread.run_sync(self.commit, drafts)
                except Exception:  # a bug, not a refusal: no sender may wait forever
                    log.exception("a batch of %d messages failed", len(drafts))
                    posted = [_not_sent()] * len(drafts)
                for (_, future), result in zip(batch, posted, strict=True):
                    if future.done():  # the socket closed meanwhile
                        continue
                    if isinstance(result, CatalogError):
                        future.set_exception(result)
                    else:
                        future.set_result(result)

    def commit(self, drafts: list[conversations.Draft]) -> list[Posted]:
        """Judge and commit `drafts` in one transaction, each answered on its own."""
        # The budgets of every sender in one round trip (a sender's messages counted together).
        refused = self._budget.refuses(Counter(draft.sender_id for draft in drafts))
        results: list[Posted | None] = [
            over_budget() if draft.sender_id in refused else None for draft in drafts
        ]
        wanted = [draft for draft, result in zip(drafts, results, strict=True) if result is None]
        try:
            answers = self._commit_together(wanted)
        except Exception:  # the database, or its driver, refused the batch
            # One message it refuses must not sink the others: each alone.
            log.warning("a batch of %d messages failed; committing each alone", len(wanted))
            answers = [self._commit_alone(draft) for draft in wanted]
        given = iter(answers)
        return [next(given) if result is None else result for result in results]

    def _commit_together(self, drafts: list[conversations.Draft]) -> list[Posted]:
        if not drafts:
            return []
        with unit_of_work(self._factory()) as session:
            posted = conversations.post_messages(session, drafts=drafts, now=self._clock())
            return [_answer(result) for result in posted]

    def _commit_alone(self, draft: conversations.Draft) -> Posted:
        try:
            (answer,) = self._commit_together([draft])
        except Exception:
            log.exception("message to conversation %d not sent", draft.conversation_id)
            return _not_sent()
        return answer


def _not_sent() -> TryAgain:
    return TryAgain("not sent; send it again", code="not_sent")


def _answer(result: Message | CatalogError) -> Posted:
    if isinstance(result, CatalogError):
        return result
    return {"type": "message", **conversations.message_payload(result)}
