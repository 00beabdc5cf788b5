"""Taking in behaviour events: each checked on its own (the valid rest is kept), then
marked counted or not so that nobody can inflate a goods' popularity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Table, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from catalog.clock import utcnow
from catalog.db import any_of, on_postgres, unnested
from catalog.events.models import Event
from catalog.goods.models import Goods
from catalog.users.models import User
from catalog.users.permissions import is_staff

EVENT_TYPES = frozenset({"impression", "click", "favorite", "share", "chat", "offer", "order"})
CLIENT_EVENT_TYPES = frozenset({"impression", "click", "favorite", "share"})
MAX_BATCH = 500
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)

_EVENTS = cast(Table, Event.__table__)
_GOODS = cast(Table, Goods.__table__)
_COLUMNS: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("type", String()),
    ("goods_id", BigInteger()),
    ("user_id", BigInteger()),
    ("device_id", String()),
    ("actor", String()),
    ("ts", DateTime(timezone=True)),
    ("received_at", DateTime(timezone=True)),
    ("surface", String()),
    ("position", Integer()),
    ("request_id", String()),
    ("ranker_version", Integer()),
    ("counted", Boolean()),
)
_ROWS = unnested(*_COLUMNS)
_INSERT_UNNESTED = insert(_EVENTS).from_select(
    [name for name, _ in _COLUMNS], select(*(_ROWS.c[name] for name, _ in _COLUMNS))
)


@dataclass(frozen=True)
class IncomingEvent:
    type: str
    goods_id: int
    ts: datetime | None = None
    device_id: str | None = None
    surface: str | None = None
    position: int | None = None
    request_id: str | None = None
    ranker_version: int | None = None


@dataclass(frozen=True)
class Rejection:
    index: int
    code: str
    reason: str


@dataclass(frozen=True)
class Intake:
    accepted: int
    counted: int
    rejected: list[Rejection]
    counted_events: list[tuple[str, int, datetime]]  # (type, goods id, ts) that move scores


def actor_of(user: User | None, device_id: str | None) -> str | None:
    if user is not None:
        return f"u:{user.id}"
    return f"d:{device_id}" if device_id else None


def record_events(
    session: Session,
    *,
    events: Sequence[IncomingEvent],
    user: User | None,
    dedupe_window: timedelta,
    known_versions: set[int],
    allowed_types: frozenset[str] = CLIENT_EVENT_TYPES,
    now: datetime | None = None,
) -> Intake:
    """Validate each event, store the valid ones, and say which of them count."""
    now = now or utcnow()
    goods = _goods_sellers(session, {event.goods_id for event in events})
    rejected: list[Rejection] = []
    valid: list[tuple[IncomingEvent, datetime, str]] = []
    for index, event in enumerate(events):
        problem = _problem(event, allowed_types, goods, known_versions, now)
        actor = actor_of(user, event.device_id)
        if problem is None and actor is None:
            problem = ("actor_required", "anonymous events need a device_id")
        if problem is not None:
            rejected.append(Rejection(index, *problem))
            continue
        assert actor is not None
        valid.append((event, (event.ts or now), actor))
    if not valid:
        return Intake(0, 0, rejected, [])

    staff = user is not None and is_staff(user)
    seen = _recent_counted(session, valid, dedupe_window)
    rows = []
    counted_events = []
    for event, ts, actor in sorted(valid, key=lambda item: item[1]):
        key = (actor, event.goods_id, event.type)
        own = user is not None and goods[event.goods_id] == user.id
        repeat = any(
            abs((ts - earlier).total_seconds()) < dedupe_window.total_seconds()
            for earlier in seen.get(key, ())
        )
        counts = not (staff or own or repeat) and event.type != "impression"
        if counts:
            seen.setdefault(key, []).append(ts)
            counted_events.append((event.type, event.goods_id, ts))
        rows.append(
            {
                "type": event.type,
                "goods_id": event.goods_id,
                "user_id": user.id if user else None,
                "device_id": event.device_id,
                "actor": actor,
                "ts": ts,
                "received_at": now,
                "surface": event.surface,
                "position": event.position,
                "request_id": event.request_id,
                "ranker_version": event.ranker_version,
                "counted": counts,
            }
        )
    _insert_events(session, rows)
    return Intake(len(rows), len(counted_events), rejected, counted_events)


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    if on_postgres(session):
        # One array per column through unnest: a batch of 500 took a third of the CPU of
        # SQLAlchemy's 500-row VALUES (and PostgreSQL less time to parse).
        session.connection().execute(
            _INSERT_UNNESTED, {name: [row[name] for row in rows] for name, _ in _COLUMNS}
        )
        return
    session.connection().execute(insert(_EVENTS), rows)


def _goods_sellers(session: Session, goods_ids: set[int]) -> dict[int, int]:
    if not goods_ids:
        return {}
    where, params = any_of(session, _GOODS.c.id, list(goods_ids), name="ids", kind=BigInteger())
    rows = session.connection().execute(
        select(_GOODS.c.id, _GOODS.c.seller_id).where(where), params
    )
    return {goods_id: seller_id for goods_id, seller_id in rows}


def _problem(
    event: IncomingEvent,
    allowed_types: frozenset[str],
    goods: dict[int, int],
    versions: set[int],
    now: datetime,
) -> tuple[str, str] | None:
    if event.type not in allowed_types:
        return "unknown_type", f"unknown event type {event.type!r}"
    if event.goods_id not in goods:
        return "unknown_goods", f"no goods {event.goods_id}"
    if event.ts is not None:
        if event.ts > now + MAX_CLOCK_SKEW:
            return "future_timestamp", "the event's time is in the future"
        if event.ts < now - MAX_AGE:
            return "stale_timestamp", "events older than 7 days are not taken"
    if event.ranker_version is not None and event.ranker_version not in versions:
        return "unknown_ranker_version", f"no ranking configuration {event.ranker_version}"
    if event.type == "impression" and (event.surface is None or event.position is None):
        return "impression_incomplete", "an impression needs its surface and position"
    return None


def _recent_counted(
    session: Session, valid: list[tuple[IncomingEvent, datetime, str]], window: timedelta
) -> dict[tuple[str, int, str], list[datetime]]:
    """Counted events of the same actors on the same goods within the window, from the store."""
    if window.total_seconds() <= 0:
        return {}
    earliest = min(ts for _, ts, _ in valid) - window
    actors = {actor for _, _, actor in valid}
    goods_ids = {event.goods_id for event, _, _ in valid}
    of_actors, actor_params = any_of(
        session, _EVENTS.c.actor, list(actors), name="actors", kind=String()
    )
    of_goods, goods_params = any_of(
        session, _EVENTS.c.goods_id, list(goods_ids), name="goods_ids", kind=BigInteger()
    )
    rows = session.connection().execute(
        select(_EVENTS.c.actor, _EVENTS.c.goods_id, _EVENTS.c.type, _EVENTS.c.ts).where(
            of_actors, of_goods, _EVENTS.c.ts >= earliest, _EVENTS.c.counted.is_(True)
        ),
        {**actor_params, **goods_params},
    )
    seen: dict[tuple[str, int, str], list[datetime]] = {}
    for row in rows:
        seen.setdefault((row.actor, row.goods_id, row.type), []).append(row.ts)
    return seen
