"""The sandbox gateway's two faces: its pay step (the shopper paying at the cashier) and
our webhook that takes its signed notifications."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import DbSession, Now
from api.schemas.orders import SandboxPaidOut, WebhookOut
from catalog.db import unit_of_work
from catalog.errors import CatalogError
from catalog.trade import payments, sandbox_gateway
from catalog.trade.settings import TradeSettings

router = APIRouter(prefix="/payments", tags=["payments"])


class BadNotification(CatalogError):
    status_code = 400
    code = "bad_signature"


@router.post("/sandbox/{ref}/pay")
def sandbox_pay(ref: str, session: DbSession, now: Now) -> SandboxPaidOut:
    """The sandbox's "the shopper paid" step (what a real gateway's cashier page does). The
    gateway then notifies our webhook asynchronously, signed, until it is acknowledged."""
    charge = sandbox_gateway.pay(session, ref=ref, now=now)
    assert charge.paid_at is not None
    return SandboxPaidOut(ref=charge.ref, paid_at=charge.paid_at)


@router.post("/sandbox/notify")
async def sandbox_notify(request: Request) -> WebhookOut:
    """The gateway's webhook. The body must carry the gateway's HMAC signature in the
    X-Sandbox-Signature header; each payment takes effect once however often it is told."""
    body = await request.body()
    signature = request.headers.get(sandbox_gateway.SIGNATURE_HEADER, "")
    # The database work runs on a worker thread: no blocking calls on the event loop.
    return await run_in_threadpool(_apply, request, body, signature)


def _apply(request: Request, body: bytes, signature: str) -> WebhookOut:
    try:
        notification = sandbox_gateway.verify(body, signature)
    except sandbox_gateway.BadSignature as error:
        raise BadNotification(str(error)) from error
    settings: TradeSettings = request.app.state.trade_settings
    with unit_of_work(request.app.state.session_factory) as session:
        outcome = payments.apply_notification(
            session, notification=notification, now=request.app.state.clock(), settings=settings
        )
    return WebhookOut(result=outcome)
