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


def encode(user_ids: Sequence[int], event: dict[str, Any]) -> str:
    return json.dumps({"users": list(user_ids), "event": event}, ensure_ascii=False)


def decode(raw: bytes | str) -> tuple[list[int], dict[str, Any]]:
    data = json.loads(raw)
    return [int(user) for user in data["users"]], dict(data["event"])


def publish(
    client: redis.Redis, channel: str, user_ids: Sequence[int], event: dict[str, Any]
) -> None:
    client.publish(channel, encode(user_ids, event))
