"""The WebSocket: a logged-in client's live feed of messages and notices."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from api.live import LiveHub
from catalog.conversations import service as conversations
from catalog.db import unit_of_work
from catalog.errors import CatalogError
from catalog.users import service as users
from catalog.users.models import User

router = APIRouter(tags=["conversations"])
# Close codes in the private range: the client should not retry with the same token.
UNAUTHENTICATED, FORBIDDEN = 4401, 4403
BACKLOG_PAGE = 500


@router.websocket("/ws")
async def live(
    websocket: WebSocket,
    token: Annotated[str, Query(max_length=200)] = "",
    after: Annotated[int, Query(ge=0)] = 0,
    conversation_id: Annotated[int | None, Query()] = None,
) -> None:
    """Messages and notices as they are committed. Connect with `?token=` (the login
    token) and `after=` the last message id you have: the server first sends every
    message after it, then live ones, each once. `conversation_id` narrows it to one
    conversation of yours."""
    factory: sessionmaker[Session] = websocket.app.state.session_factory
    hub: LiveHub = websocket.app.state.live
    try:
        user = await run_in_threadpool(_check_access, factory, token, conversation_id)
    except PermissionError:
        await websocket.close(code=FORBIDDEN)
        return
    except CatalogError:
        await websocket.close(code=UNAUTHENTICATED)
        return
    await websocket.accept()
    # Subscribe before reading the backlog, so nothing committed in between is missed;
    # ids seen in the backlog are skipped when they come round live.
    queue = hub.subscribe(user.id)
    try:
        last_id = after
        while True:
            backlog = await run_in_threadpool(_backlog, factory, user.id, last_id)
            for payload in backlog:
                if _wanted(payload, conversation_id):
                    await websocket.send_json(payload)
                last_id = payload["id"]
            if len(backlog) < BACKLOG_PAGE:
                break
        await _pump(websocket, queue, last_id, conversation_id)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(user.id, queue)


async def _pump(
    websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]], last_id: int, only: int | None
) -> None:
    receiver = asyncio.create_task(_until_closed(websocket))
    try:
        while not receiver.done():
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            payload = getter.result()
            if payload.get("type") == "message":
                if payload["id"] <= last_id:
                    continue
                last_id = payload["id"]
            if _wanted(payload, only):
                await websocket.send_json(payload)
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await receiver


async def _until_closed(websocket: WebSocket) -> None:
    # Clients may send pings; anything they send is answered, nothing else is read.
    while True:
        text = await websocket.receive_text()
        if text == "ping":
            await websocket.send_text("pong")


def _wanted(payload: dict[str, Any], only: int | None) -> bool:
    return only is None or payload.get("conversation_id") == only


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


def _backlog(factory: sessionmaker[Session], user_id: int, after: int) -> list[dict[str, Any]]:
    with unit_of_work(factory) as session:
        found = conversations.messages_since(
            session, user_id=user_id, after_id=after, limit=BACKLOG_PAGE
        )
        return [{"type": "message", **conversations.message_payload(m)} for m in found]
