from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from api.deps import (
    CurrentUser,
    DbSession,
    IdempotencyKey,
    Now,
    Pagination,
    PrivateStoreDep,
    TradeSettingsDep,
    Writer,
)
from api.idempotency import once
from api.routes.events import record_server_event
from api.schemas.base import Page
from api.schemas.orders import (
    CancelIn,
    DisputeIn,
    OrderCreateIn,
    OrderOut,
    OrderSummaryOut,
    PaymentOut,
    RatingIn,
    RatingOut,
    ShipIn,
    TrackingEventOut,
    TrackingOut,
)
from api.uploads import read_upload
from catalog.buying import buy_now
from catalog.errors import Conflict, NotFound
from catalog.trade import payments
from catalog.trade import service as trade
from catalog.trade.logistics import LogisticsProvider
from catalog.trade.models import Actor, OrderStatus
from catalog.users.models import User

router = APIRouter(prefix="/orders", tags=["orders"])


def _view(session: DbSession, user: User, order_id: int) -> OrderOut:
    return OrderOut.of_view(trade.view_order(session, user=user, order_id=order_id))


@router.post("", status_code=status.HTTP_201_CREATED)
def place_order(
    body: OrderCreateIn,
    request: Request,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
    key: IdempotencyKey = None,
) -> OrderOut:
    """Order listed goods at their price; they are reserved for you until you pay or the
    order expires (30 minutes by default)."""

    def run() -> OrderOut:
        order = buy_now(session, buyer=user, goods_id=body.goods_id, now=now, settings=settings)
        record_server_event(request, session, user=user, kind="order", goods_id=order.goods_id)
        return _view(session, user, order.id)

    return once(
        request,
        session,
        user=user,
        key=key,
        body=body,
        status_code=201,
        answer_type=OrderOut,
        run=run,
    )


@router.get("")
def list_orders(
    session: DbSession,
    user: CurrentUser,
    paging: Pagination,
    role: Literal["buyer", "seller"] = "buyer",
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
) -> Page[OrderSummaryOut]:
    """Your orders as buyer (default) or as seller, newest first."""
    orders, total = trade.list_orders(
        session,
        user=user,
        as_role=Actor(role),
        status=status_filter,
        page=paging.page,
        page_size=paging.page_size,
    )
    return paging.answer([OrderSummaryOut.of(order) for order in orders], total)


@router.get("/{order_id}")
def get_order(order_id: int, session: DbSession, user: CurrentUser) -> OrderOut:
    """An order you buy or sell: status, price, deadline, and the timeline of every step."""
    return _view(session, user, order_id)


@router.post("/{order_id}/pay")
def pay_order(
    order_id: int,
    request: Request,
    session: DbSession,
    user: Writer,
    now: Now,
    key: IdempotencyKey = None,
) -> PaymentOut:
    """Start paying: open the returned `pay_url` (in the sandbox, POST it). The order is paid
    when the gateway's signed notification arrives; asking again gives the same payment."""

    def run() -> PaymentOut:
        started = payments.start_payment(session, buyer=user, order_id=order_id, now=now)
        return PaymentOut(
            payment_id=started.payment.id,
            order_id=order_id,
            amount=started.payment.amount,
            status=started.payment.status.value,
            pay_url=str(request.base_url).rstrip("/") + "/api/v1" + started.pay_path,
        )

    return once(
        request,
        session,
        user=user,
        key=key,
        body=None,
        status_code=200,
        answer_type=PaymentOut,
        run=run,
    )


@router.post("/{order_id}/cancel")
def cancel_order(
    order_id: int,
    body: CancelIn,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
) -> OrderOut:
    """Cancel: either side before payment; the seller also after payment and before the
    video (the buyer is refunded in full). The goods go back on the market."""
    trade.cancel(
        session, user=user, order_id=order_id, now=now, settings=settings, note=body.reason
    )
    return _view(session, user, order_id)


@router.post("/{order_id}/video")
def upload_video(
    order_id: int,
    file: Annotated[UploadFile, File(description="an MP4 or MOV video of the item")],
    request: Request,
    session: DbSession,
    store: PrivateStoreDep,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
) -> OrderOut:
    """The seller's video of the item (within 24 h of payment); the buyer then has 3 h to
    confirm it. The type is decided by the content; size and duration are limited."""
    data = read_upload(request, file, limit=settings.video_max_bytes, what="video")
    trade.upload_video(
        session, seller=user, order_id=order_id, data=data, store=store, now=now, settings=settings
    )
    return _view(session, user, order_id)


@router.get("/{order_id}/video")
def get_video(
    order_id: int, session: DbSession, user: CurrentUser, store: PrivateStoreDep
) -> FileResponse:
    """The seller's video, for the buyer, the seller and operators only."""
    order, _role = trade.order_for(session, user=user, order_id=order_id)
    if order.video_path is None:
        raise NotFound("no video yet", code="video_not_found")
    kind = "video/quicktime" if order.video_path.endswith(".mov") else "video/mp4"
    return FileResponse(store.absolute(order.video_path), media_type=kind)


@router.post("/{order_id}/confirm-video")
def confirm_video(
    order_id: int, session: DbSession, user: Writer, now: Now, settings: TradeSettingsDep
) -> OrderOut:
    """The buyer saw the video and the item is as described: the seller may ship."""
    trade.act(
        session, user=user, order_id=order_id, action="confirm_video", now=now, settings=settings
    )
    return _view(session, user, order_id)


@router.post("/{order_id}/ship")
def ship_order(
    order_id: int,
    body: ShipIn,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
) -> OrderOut:
    """The seller shipped the item: carrier code and tracking number."""
    trade.ship(
        session,
        seller=user,
        order_id=order_id,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        now=now,
        settings=settings,
    )
    return _view(session, user, order_id)


@router.get("/{order_id}/tracking")
def tracking(
    order_id: int, request: Request, session: DbSession, user: CurrentUser, now: Now
) -> TrackingOut:
    """Where the parcel is, from the logistics provider."""
    order, _role = trade.order_for(session, user=user, order_id=order_id)
    if order.carrier is None or order.tracking_number is None or order.shipped_at is None:
        raise Conflict("the order has not shipped yet", code="not_shipped")
    provider: LogisticsProvider = request.app.state.logistics
    events = provider.track(
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        shipped_at=order.shipped_at,
        now=now,
    )
    return TrackingOut(
        carrier=order.carrier,
        carrier_name=trade.CARRIERS[order.carrier],
        tracking_number=order.tracking_number,
        events=[TrackingEventOut.of(event) for event in events],
    )


@router.post("/{order_id}/mark-complete")
def mark_complete(
    order_id: int, session: DbSession, user: Writer, now: Now, settings: TradeSettingsDep
) -> OrderOut:
    """The seller says the buyer has the item; the order completes by itself a day later
    unless the buyer disputes."""
    trade.act(
        session, user=user, order_id=order_id, action="mark_complete", now=now, settings=settings
    )
    return _view(session, user, order_id)


@router.post("/{order_id}/confirm-receipt")
def confirm_receipt(
    order_id: int,
    request: Request,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
    key: IdempotencyKey = None,
) -> OrderOut:
    """The buyer has the item: escrow is released to the seller less the commission."""

    def run() -> OrderOut:
        trade.act(
            session,
            user=user,
            order_id=order_id,
            action="confirm_receipt",
            now=now,
            settings=settings,
        )
        return _view(session, user, order_id)

    return once(
        request,
        session,
        user=user,
        key=key,
        body=None,
        status_code=200,
        answer_type=OrderOut,
        run=run,
    )


@router.post("/{order_id}/dispute", status_code=status.HTTP_201_CREATED)
def open_dispute(
    order_id: int,
    body: DisputeIn,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
) -> OrderOut:
    """Either side, before completion: timers stop and the money is frozen until an
    operator decides."""
    trade.open_dispute(
        session, user=user, order_id=order_id, reason=body.reason, now=now, settings=settings
    )
    return _view(session, user, order_id)


@router.post("/{order_id}/rating", status_code=status.HTTP_201_CREATED)
def rate_order(
    order_id: int, body: RatingIn, session: DbSession, user: Writer, now: Now
) -> RatingOut:
    """Rate the other side of a completed order, once (1 to 5 and a comment)."""
    rating = trade.rate(
        session, user=user, order_id=order_id, score=body.score, comment=body.comment, now=now
    )
    return RatingOut.of(rating)
