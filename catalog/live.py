"""Live announcements: the domain says which users should hear of a committed change
(a new message, an offer, an order step); the web layer delivers them to open sockets.
They ride on the session and leave only if its transaction commits: a socket never
hears of data that is not in the database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

LIVE_KEY = "live_announcements"


def announce(session: Session, *, user_ids: Iterable[int], event: dict[str, Any]) -> None:
    pending: list[tuple[tuple[int, ...], dict[str, Any]]] = session.info.setdefault(LIVE_KEY, [])
    pending.append((tuple(user_ids), event))


def take_announcements(session: Session) -> list[tuple[tuple[int, ...], dict[str, Any]]]:
    """The announcements of the transaction that just ended (and forget them)."""
    taken: list[tuple[tuple[int, ...], dict[str, Any]]] = session.info.pop(LIVE_KEY, [])
    return taken
