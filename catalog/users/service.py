"""Accounts: registration, login, logout, and staff management of users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.clock import utcnow
from catalog.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from catalog.settings import get_settings
from catalog.users import repository
from catalog.users.models import AuthSession, Role, User, UserStatus
from catalog.users.passwords import hash_password, needs_rehash, verify_password
from catalog.users.tokens import new_token, token_digest


@dataclass(frozen=True)
class Login:
    """What a client identifies with: exactly one of an email or a phone number."""

    email: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if (self.email is None) == (self.phone is None):
            raise InvalidInput("give either an email or a phone number", code="login_ambiguous")


@dataclass(frozen=True)
class IssuedSession:
    token: str
    user: User
    auth_session: AuthSession


def register(
    session: Session, *, login: Login, password: str, nickname: str, role: Role = Role.USER
) -> User:
    """Create an account; the email or phone must not be registered yet."""
    if repository.login_taken(session, email=login.email, phone=login.phone):
        raise Conflict("this email or phone number is already registered", code="login_taken")
    user = User(
        email=login.email,
        phone=login.phone,
        password_hash=hash_password(password),
        nickname=nickname,
        role=role,
    )
    try:
        # Two sign-ups with one phone can both pass the check above; the unique index decides.
        with session.begin_nested():
            session.add(user)
    except IntegrityError as error:
        raise Conflict(
            "this email or phone number is already registered", code="login_taken"
        ) from error
    return user


def log_in(session: Session, *, login: Login, password: str) -> IssuedSession:
    """Check the password and open a session; the same error for unknown login and bad password."""
    user = repository.find_by_login(session, email=login.email, phone=login.phone)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise NotAuthenticated("wrong login or password", code="bad_credentials")
    if user.status is UserStatus.BANNED:
        raise PermissionDenied("this account is suspended", code="account_banned")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return open_session(session, user=user)


def open_session(session: Session, *, user: User) -> IssuedSession:
    token = new_token()
    now = utcnow()
    auth_session = AuthSession(
        user_id=user.id,
        token_hash=token_digest(token),
        created_at=now,
        expires_at=now + timedelta(hours=get_settings().session_ttl_hours),
    )
    session.add(auth_session)
    session.flush()
    return IssuedSession(token=token, user=user, auth_session=auth_session)


def authenticate(session: Session, *, token: str) -> tuple[User, AuthSession]:
    """The user behind a bearer token, if the session is live and the account active."""
    auth_session = repository.find_live_session(session, token_digest(token), utcnow())
    if auth_session is None:
        raise NotAuthenticated("the session is missing, expired or logged out", code="bad_token")
    user = repository.get_user(session, auth_session.user_id)
    if user is None or user.status is UserStatus.BANNED:
        raise NotAuthenticated("the session is missing, expired or logged out", code="bad_token")
    return user, auth_session


def log_out(session: Session, *, auth_session: AuthSession) -> None:
    auth_session.revoked_at = utcnow()
    session.flush()


def get_user(session: Session, *, user_id: int) -> User:
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotFound("no such user", code="user_not_found")
    return user


def list_users(
    session: Session, *, role: Role | None, query: str | None, page: int, page_size: int
) -> tuple[list[User], int]:
    return repository.list_users(session, role=role, query=query, page=page, page_size=page_size)


def update_user(
    session: Session,
    *,
    actor: User,
    user_id: int,
    role: Role | None = None,
    status: UserStatus | None = None,
) -> User:
    """Change a user's role or suspend them; suspending logs them out everywhere."""
    user = get_user(session, user_id=user_id)
    if user.id == actor.id:
        raise Conflict("staff cannot change their own role or status", code="cannot_change_self")
    if role is not None:
        user.role = role
    if status is not None and status is not user.status:
        user.status = status
        if status is UserStatus.BANNED:
            repository.revoke_sessions_of(session, user.id, utcnow())
    session.flush()
    return user


def purge_dead_sessions(session: Session, *, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete sessions that expired or were revoked more than `older_than` ago."""
    return repository.delete_dead_sessions(session, utcnow() - older_than)
