"""Live delivery to WebSockets. Delivery is a notice of committed data: the database is
the truth, and a socket that detects a hole, or a client that reconnects, catches up
from it by message id. In the embedded default
announcements go straight to this process's sockets; with Redis every process publishes
on one channel and every process listens, so a message committed by one server reaches
sockets held by another."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio as aioredis
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from catalog import live_redis
from catalog.live import take_announcements

log = logging.getLogger(__name__)
Event = dict[str, Any]
QUEUE_LIMIT = 1000
# Told to a socket whose notices may have a hole (it fell QUEUE_LIMIT behind, or the Redis
# channel dropped): it closes, and its client reconnects and catches up from the database.
RESYNC: Event = {"type": "resync"}


class LiveHub:
    def __init__(self, redis_url: str = "") -> None:
        self._redis_url = redis_url
        self._channel = live_redis.channel_for(redis_url) if redis_url else ""
        self._publisher = redis.Redis.from_url(redis_url) if redis_url else None
        self._queues: dict[int, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._redis_url:
            ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(ready))
            await asyncio.wait_for(ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    def subscribe(self, user_id: int) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._queues[user_id].add(queue)
        return queue

    def unsubscribe(self, user_id: int, queue: asyncio.Queue[Event]) -> None:
        self._queues[user_id].discard(queue)
        if not self._queues[user_id]:
            del self._queues[user_id]

    def publish(self, announcements: Sequence[live_redis.Announcement]) -> None:
        """From any thread, after the commit that made them true."""
        if not announcements:
            return
        if self._publisher is not None:
            try:
                live_redis.publish(self._publisher, self._channel, announcements)
            except redis.RedisError as error:
                log.warning("live announcements not published, sockets resync: %s", error)
                self._resync_all_threadsafe()
            return
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver_all, list(announcements))

    def _deliver_all(self, announcements: Sequence[live_redis.Announcement]) -> None:
        for user_ids, payload in announcements:
            self._deliver(user_ids, payload)

    def _deliver(self, user_ids: Sequence[int], payload: Event) -> None:
        for user_id in user_ids:
            for queue in self._queues.get(user_id, ()):
                if queue.full():
                    _replace_with_resync(queue)
                else:
                    queue.put_nowait(payload)

    def _resync_all(self) -> None:
        for queues in self._queues.values():
            for queue in queues:
                _replace_with_resync(queue)

    def _resync_all_threadsafe(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._resync_all)

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            try:
                client = aioredis.Redis.from_url(self._redis_url)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._deliver_all(live_redis.decode(message["data"]))
            except (redis.RedisError, OSError) as error:
                ready.set()
                # Whatever was published while the channel was down is gone: resync.
                self._resync_all()
                log.warning("live channel lost, reconnecting: %s", error)
                await asyncio.sleep(1)


def _replace_with_resync(queue: asyncio.Queue[Event]) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(RESYNC)


def publish_announcements_on_commit(factory: sessionmaker[Session], hub: LiveHub) -> None:
    """Announcements made in a transaction leave when it commits, and never otherwise."""

    def committed(session: Session) -> None:
        hub.publish(take_announcements(session))

    def rolled_back(session: Session, previous: Any) -> None:
        if previous.parent is None:
            take_announcements(session)

    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_soft_rollback", rolled_back)
