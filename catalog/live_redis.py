"""Announcements across processes: committed announcements are published on one Redis
channel, and every server process hands them to its own sockets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import redis

CHANNEL_PREFIX = "idlemarket:live"


def channel_for(redis_url: str) -> str:
    """Pub/sub ignores the database number, so the channel carries it: deployments (and
    test runs) that share a Redis server on different databases never hear each other."""
    path = urlsplit(redis_url).path.strip("/")
    return f"{CHANNEL_PREFIX}:{path or '0'}"


Announcement = tuple[Sequence[int], dict[str, Any]]  # who hears it, and what


def encode(announcements: Sequence[Announcement]) -> str:
    """One channel message for all of a transaction's announcements."""
    return json.dumps(
        [{"users": list(user_ids), "event": event} for user_ids, event in announcements],
        ensure_ascii=False,
    )


def decode(raw: bytes | str) -> list[tuple[list[int], dict[str, Any]]]:
    data = json.loads(raw)
    items = data if isinstance(data, list) else [data]  # one announcement, as published before
    return [([int(user) for user in item["users"]], dict(item["event"])) for item in items]


def publish(client: redis.Redis, channel: str, announcements: Sequence[Announcement]) -> None:
    """A transaction's announcements, in one message: a batch of chat messages is one
    publish, and every listening server parses it once."""
    if announcements:
        client.publish(channel, encode(announcements))
