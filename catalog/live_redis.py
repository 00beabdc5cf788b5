"""Announcements across processes: committed announcements are published on one Redis
channel, and every server process hands them to its own sockets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis

CHANNEL = "idlemarket:live"


def encode(user_ids: Sequence[int], event: dict[str, Any]) -> str:
    return json.dumps({"users": list(user_ids), "event": event}, ensure_ascii=False)


def decode(raw: bytes | str) -> tuple[list[int], dict[str, Any]]:
    data = json.loads(raw)
    return [int(user) for user in data["users"]], dict(data["event"])


def publish(client: redis.Redis, user_ids: Sequence[int], event: dict[str, Any]) -> None:
    client.publish(CHANNEL, encode(user_ids, event))
