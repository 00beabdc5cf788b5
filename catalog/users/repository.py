"""Every query about users and their sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from catalog.pagination import fetch_page
from catalog.users.models import AuthSession, Role, User


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_by_login(session: Session, *, email: str | None, phone: str | None) -> User | None:
    if email is not None:
        return session.scalar(select(User).where(User.email == email))
    if phone is not None:
        return session.scalar(select(User).where(User.phone == phone))
    return None


def login_taken(session: Session, *, email: str | None, phone: str | None) -> bool:
    return find_by_login(session, email=email, phone=phone) is not None


def find_live_session(session: Session, token_hash: str, now: datetime) -> AuthSession | None:
    return session.scalar(
        select(AuthSession).where(
            AuthSession.token_hash == token_hash,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
    )


def revoke_sessions_of(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def list_users(
    session: Session, *, role: Role | None, query: str | None, page: int, page_size: int
) -> tuple[list[User], int]:
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if query:
        pattern = f"%{query}%"
        stmt = stmt.where(
            User.email.ilike(pattern) | User.phone.ilike(pattern) | User.nickname.ilike(pattern)
        )
    return fetch_page(session, stmt.order_by(User.id), page=page, page_size=page_size)


def delete_dead_sessions(session: Session, cutoff: datetime) -> int:
    result = session.execute(
        delete(AuthSession).where(
            (AuthSession.expires_at < cutoff) | (AuthSession.revoked_at < cutoff)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
