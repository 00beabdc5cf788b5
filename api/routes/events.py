from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import ValidationError

from api.deps import ApiSettingsDep, DbSession, OptionalUser, RateLimiterDep, client_address
from api.schemas.events import EventBatchIn, EventBatchOut, EventIn, RejectedEventOut
from catalog.errors import RateLimited
from catalog.events.service import IncomingEvent, Rejection, record_events
from catalog.users.models import User
from ranking.config_store import ConfigWatcher, known_versions
from ranking.counters import DatabaseHotCounter, HotCounter, RedisHotCounter
from ranking.hot import event_term

router = APIRouter(prefix="/events", tags=["events"])


def hot_counter(request: Request, session: DbSession, config_version: int) -> HotCounter:
    if request.app.state.redis is not None:
        return RedisHotCounter(request.app.state.redis)
    return DatabaseHotCounter(session, config_version=config_version)


def _parse(
    body: EventBatchIn, *, device: object
) -> tuple[list[tuple[int, IncomingEvent]], list[Rejection]]:
    parsed, malformed = [], []
    for index, raw in enumerate(body.events):
        try:
            event = EventIn.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "event"
            malformed.append(Rejection(index, "invalid_event", f"{where}: {first['msg']}"))
            continue
        if device is not None and event.device_id != device:
            malformed.append(
                Rejection(index, "device_mismatch", "one batch carries one device's events")
            )
            continue
        parsed.append(
            (
                index,
                IncomingEvent(
                    type=event.type,
                    goods_id=event.goods_id,
                    ts=event.ts.astimezone(UTC) if event.ts else None,
                    device_id=event.device_id,
                    surface=event.surface,
                    position=event.position,
                    request_id=event.request_id,
                    ranker_version=event.ranker_version,
                ),
            )
        )
    return parsed, malformed


@router.post("")
def report_events(
    body: EventBatchIn,
    request: Request,
    session: DbSession,
    user: OptionalUser,
    limiter: RateLimiterDep,
    settings: ApiSettingsDep,
) -> EventBatchOut:
    """Report impressions, clicks, favourites and shares (up to 500 at once). Each event is
    checked on its own: the invalid ones come back with reasons, the rest are kept."""
    device = body.events[0].get("device_id")
    who = f"user:{user.id}" if user else f"device:{device or 'none'}"
    cost = len(body.events)
    if not (
        limiter.hit(
            f"events:{who}",
            limit=settings.events_per_actor_per_minute,
            window_seconds=60,
            cost=cost,
        )
        and limiter.hit(
            f"events:ip:{client_address(request)}",
            limit=settings.events_per_address_per_minute,
            window_seconds=60,
            cost=cost,
        )
    ):
        raise RateLimited("too many events from this device; slow down", code="rate_limited")
    watcher: ConfigWatcher = request.app.state.ranking_config
    active = watcher.current(session)
    # One anonymous batch speaks for one device: a batch of clicks from 500 made-up
    # devices would otherwise dodge both the de-duplication and the budget above.
    parsed, malformed = _parse(body, device=None if user else device)
    intake = record_events(
        session,
        events=[event for _, event in parsed],
        user=user,
        dedupe_window=timedelta(seconds=active.config.dedupe_window_seconds),
        known_versions=known_versions(session),
    )
    # The service numbered the events it was given; map back to the client's positions.
    rejected = malformed + [
        Rejection(parsed[r.index][0], r.code, r.reason) for r in intake.rejected
    ]
    _count(request, session, intake.counted_events)
    return EventBatchOut(
        accepted=intake.accepted,
        counted=intake.counted,
        rejected=[
            RejectedEventOut(index=r.index, code=r.code, reason=r.reason)
            for r in sorted(rejected, key=lambda r: r.index)
        ],
    )


def _count(request: Request, session: DbSession, counted: list[tuple[str, int, datetime]]) -> None:
    watcher: ConfigWatcher = request.app.state.ranking_config
    active = watcher.current(session)
    half_life = active.config.half_life_hours
    hot_counter(request, session, active.version).add(
        [
            (goods_id, event_term(active.config.weight_of(kind), ts.timestamp(), half_life))
            for kind, goods_id, ts in counted
        ]
    )


def record_server_event(
    request: Request, session: DbSession, *, user: User, kind: str, goods_id: int
) -> None:
    """An event the server itself saw (an order, later a chat or an offer), recorded and
    counted under the same rules as the clients' events."""
    watcher: ConfigWatcher = request.app.state.ranking_config
    intake = record_events(
        session,
        events=[IncomingEvent(type=kind, goods_id=goods_id, surface="server")],
        user=user,
        dedupe_window=timedelta(seconds=watcher.current(session).config.dedupe_window_seconds),
        known_versions=set(),
        allowed_types=frozenset({kind}),
    )
    _count(request, session, intake.counted_events)
