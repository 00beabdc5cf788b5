"""Idempotency-Key handling for money-moving routes: replay the first answer for a key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from catalog.trade import idempotency
from catalog.users.models import User

Answer = TypeVar("Answer", bound=BaseModel)


def once(
    request: Request,
    session: Session,
    *,
    user: User,
    key: str | None,
    body: BaseModel | None,
    status_code: int,
    answer_type: type[Answer],
    run: Callable[[], Answer],
) -> Answer:
    """`run()` once per key: a retry with the same key and request gets the first answer
    (committed with its effect), the same key with another request is refused."""
    if key is None:
        return run()
    fingerprint = hashlib.sha256(
        f"{request.method} {request.url.path}\n{body.model_dump_json() if body else ''}".encode()
    ).hexdigest()
    claimed = idempotency.claim(session, user_id=user.id, key=key, fingerprint=fingerprint)
    if isinstance(claimed, idempotency.Replay):
        return answer_type.model_validate_json(claimed.body)
    answer = run()
    idempotency.finish(session, claimed, status_code=status_code, body=answer.model_dump_json())
    return answer
