"""The WebSocket: a logged-in client's live feed of messages and notices."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from api.live import LiveHub
from api.message_batches import MessageBatches
from api.schemas.conversations import MAX_REF, SendFrame
from catalog.conversations import service as conversations
from catalog.db import unit_of_work
from catalog.errors import CatalogError, InvalidInput, PayloadTooLarge, RateLimited
from catalog.users import service as users
from catalog.users.models import User

router = APIRouter(tags=["conversations"])
# Close codes in the private range: the client should not retry with the same token.
UNAUTHENTICATED, FORBIDDEN = 4401, 4403
# "Try again later": the client reconnects with its cursors and catches up.
RESYNC_CLOSE = 1013
BACKLOG_PAGE = 500
MAX_CURSORS = 500
MAX_FRAME = 8_000  # characters: a message of MESSAGE_MAX with room for escapes
# Sends waiting for their commit, per socket: a client that floods is told to slow down.
MAX_UNACKNOWLEDGED = 256
_TOO_MANY_UNACKNOWLEDGED = RateLimited(
    f"at most {MAX_UNACKNOWLEDGED} messages may wait for their commit", code="too_many_pending"
)


class _Cursors:
    """The last message id sent, per conversation. A conversation's messages commit in id
    order (writers hold its row), but different conversations' commits interleave, so
    one number for the whole socket would skip a message that committed late."""

    def __init__(self, after: int, given: dict[int, int]) -> None:
        self.after = after
        self.last = dict(given)

    def of(self, conversation_id: int) -> int:
        return self.last.get(conversation_id, self.after)

    def lowest(self) -> int:
        return min([self.after, *self.last.values()])


@router.websocket("/ws")
async def live(
    websocket: WebSocket,
    token: Annotated[str, Query(max_length=200)] = "",
    after: Annotated[int, Query(ge=0)] = 0,
    cursors: Annotated[str, Query(max_length=12_000)] = "",
    conversation_id: Annotated[int | None, Query()] = None,
) -> None:
    """Messages and notices as they are committed. Connect with `?token=` (the login
    token) and what you have: `after=` the last message id seen, and for exactness across
    conversations `cursors=<conversation id>:<last id>,...`. The server sends every message
    you have not seen, then live ones, each once. `conversation_id` narrows it to one
    conversation of yours. Close 4401: log in again; 4403: not your conversation; 1013:
    reconnect with your cursors (the server lost track).

    Send messages on the socket too: `{"type": "send", "conversation_id": ..., "text": ...,
    "ref": ...}` (`ref` is yours, echoed back) is answered with `{"type": "sent", "ref",
    "id", "message"}` once committed, or `{"type": "error", "ref", "code", "message"}`; the
    rules and limits are those of POSTing it. The message itself also arrives like any
    other."""
    factory: sessionmaker[Session] = websocket.app.state.session_factory
    hub: LiveHub = websocket.app.state.live
    # Accept first: a close before the handshake reaches clients as a bare HTTP 403.
    await websocket.accept()
    try:
        given = _parse_cursors(cursors)
        user = await run_in_threadpool(_check_access, factory, token, conversation_id)
    except PermissionError:
        await websocket.close(code=FORBIDDEN)
        return
    except (CatalogError, ValueError):
        await websocket.close(code=UNAUTHENTICATED)
        return
    # Subscribe before reading the backlog, so nothing committed in between is missed;
    # what the backlog sent is skipped when it comes round live.
    queue = hub.subscribe(user.id)
    sent = _Cursors(after, given)
    try:
        await _catch_up(websocket, factory, user.id, sent, conversation_id)
        batches: MessageBatches = websocket.app.state.message_batches
        await _pump(websocket, factory, batches, queue, user.id, sent, conversation_id)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(user.id, queue)


async def _catch_up(
    websocket: WebSocket,
    factory: sessionmaker[Session],
    user_id: int,
    sent: _Cursors,
    only: int | None,
) -> None:
    """Send every committed message after the client's cursors, oldest first."""
    scanned = sent.lowest()
    while True:
        found = await run_in_threadpool(_messages, factory, user_id, scanned, only)
        for payload in found:
            await _send_message(websocket, payload, sent)
            scanned = payload["id"]
        if len(found) < BACKLOG_PAGE:
            return


async def _pump(
    websocket: WebSocket,
    factory: sessionmaker[Session],
    batches: MessageBatches,
    queue: asyncio.Queue[dict[str, Any]],
    user_id: int,
    sent: _Cursors,
    only: int | None,
) -> None:
    receiver = asyncio.create_task(_until_closed(websocket, user_id, batches))
    try:
        while not receiver.done():
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            payload = getter.result()
            if payload.get("type") == "resync":
                await websocket.close(code=RESYNC_CLOSE)
                break
            if payload.get("type") != "message":
                if only is None:
                    await websocket.send_json(payload)
                continue
            conversation = int(payload["conversation_id"])
            if only is not None and conversation != only:
                continue
            if payload.get("previous_id", 0) > sent.of(conversation):
                # An earlier message's announcement has not come (it may never): it is
                # committed, so fill the hole from the database, in order.
                found = await run_in_threadpool(
                    _messages, factory, user_id, sent.of(conversation), conversation
                )
                for missing in found:
                    await _send_message(websocket, missing, sent)
            await _send_message(websocket, payload, sent)
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await receiver


async def _send_message(websocket: WebSocket, payload: dict[str, Any], sent: _Cursors) -> None:
    conversation = int(payload["conversation_id"])
    if payload["id"] <= sent.of(conversation):
        return  # sent already (from the backlog, or filling a hole)
    sent.last[conversation] = payload["id"]
    await websocket.send_json(payload)


async def _until_closed(websocket: WebSocket, user_id: int, batches: MessageBatches) -> None:
    """Answer what the client sends: `ping` with `pong`; a `send` frame posts a message
    and is acknowledged (`sent` with the message id, or `error`) once committed."""
    acknowledging: set[asyncio.Task[None]] = set()
    try:
        while True:
            text = await websocket.receive_text()
            if text == "ping":
                await websocket.send_text("pong")
                continue
            frame = _send_frame(text)
            if isinstance(frame, CatalogError):
                await websocket.send_json(_refusal(_ref_of(text), frame))
                continue
            if len(acknowledging) >= MAX_UNACKNOWLEDGED:
                await websocket.send_json(_refusal(frame.ref, _TOO_MANY_UNACKNOWLEDGED))
                continue
            draft = conversations.Draft(user_id, frame.conversation_id, frame.text)
            task = asyncio.create_task(_acknowledge(websocket, frame.ref, batches.submit(draft)))
            acknowledging.add(task)
            task.add_done_callback(acknowledging.discard)
    finally:
        for task in acknowledging:  # the socket is gone; the messages still commit
            task.cancel()


def _send_frame(text: str) -> SendFrame | CatalogError:
    if len(text) > MAX_FRAME:
        return PayloadTooLarge(f"a frame is at most {MAX_FRAME} characters", code="frame_too_large")
    try:
        return SendFrame.model_validate_json(text)
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"]) or "not JSON"
        return InvalidInput(
            f'not a send frame ({where}): send {{"type": "send", '
            f'"conversation_id": ..., "text": ...}}',
            code="invalid_frame",
        )


def _ref_of(text: str) -> str | None:
    """The client's `ref` of a frame refused as a whole, if it can be read."""
    with contextlib.suppress(ValueError):
        data = json.loads(text) if len(text) <= MAX_FRAME else None
        ref = data.get("ref") if isinstance(data, dict) else None
        if isinstance(ref, str) and len(ref) <= MAX_REF:
            return ref
    return None


async def _acknowledge(
    websocket: WebSocket, ref: str | None, posted: asyncio.Future[dict[str, Any]]
) -> None:
    try:
        message = await posted
    except CatalogError as error:
        answer = _refusal(ref, error)
    else:
        answer = {"type": "sent", "ref": ref, "id": message["id"], "message": message}
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # closed meanwhile
        await websocket.send_json(answer)


def _refusal(ref: str | None, error: CatalogError) -> dict[str, Any]:
    return {"type": "error", "ref": ref, "code": error.code, "message": error.message}


def _parse_cursors(raw: str) -> dict[int, int]:
    """`12:340,15:377` → {12: 340, 15: 377}; anything else is refused."""
    if not raw:
        return {}
    pairs = [item.split(":") for item in raw.split(",")]
    if len(pairs) > MAX_CURSORS or any(len(pair) != 2 for pair in pairs):
        raise ValueError("cursors are conversation:last_id pairs")
    return {int(conversation): int(last) for conversation, last in pairs}


def _check_access(factory: sessionmaker[Session], token: str, conversation_id: int | None) -> User:
    with unit_of_work(factory) as session:
        user, _ = users.authenticate(session, token=token)
        if conversation_id is not None:
            try:
                conversations.conversation_for(session, user=user, conversation_id=conversation_id)
            except CatalogError as error:
                raise PermissionError("not your conversation") from error
        session.expunge(user)
        return user


def _messages(
    factory: sessionmaker[Session], user_id: int, after: int, conversation_id: int | None
) -> list[dict[str, Any]]:
    with unit_of_work(factory) as session:
        found = conversations.messages_since(
            session,
            user_id=user_id,
            after_id=after,
            limit=BACKLOG_PAGE,
            conversation_id=conversation_id,
        )
        return [{"type": "message", **conversations.message_payload(m)} for m in found]
