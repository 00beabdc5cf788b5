"""Request dependencies as named types: DbSession, CurrentUser, Staff(...), Pagination."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.ratelimit import RateLimiter
from api.schemas.base import PageParams
from api.settings import ApiSettings
from catalog.db import unit_of_work
from catalog.errors import NotAuthenticated, RateLimited
from catalog.media.store import MediaStore
from catalog.trade.settings import TradeSettings
from catalog.users import service as users
from catalog.users.models import AuthSession, User
from catalog.users.permissions import Permission, require_permission

_bearer = HTTPBearer(auto_error=False, description="the token from /api/v1/auth/login")


def _db(request: Request) -> Iterator[Session]:
    # The request is the unit of work: it commits here, once, after the route returned.
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


DbSession = Annotated[Session, Depends(_db, scope="function")]


def _media_store(request: Request) -> MediaStore:
    store: MediaStore = request.app.state.media_store
    return store


MediaStoreDep = Annotated[MediaStore, Depends(_media_store)]


def _private_store(request: Request) -> MediaStore:
    store: MediaStore = request.app.state.private_store
    return store


PrivateStoreDep = Annotated[MediaStore, Depends(_private_store)]


def _api_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.api_settings
    return settings


ApiSettingsDep = Annotated[ApiSettings, Depends(_api_settings)]


def _rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def optional_login(
    session: Session, credentials: HTTPAuthorizationCredentials | None
) -> tuple[User, AuthSession] | None:
    """The user and session of a bearer token; None without one (a bad one is refused)."""
    if credentials is None:
        return None
    return users.authenticate(session, token=credentials.credentials)


def _optional_login(
    session: DbSession, credentials: Credentials
) -> tuple[User, AuthSession] | None:
    return optional_login(session, credentials)


OptionalLogin = Annotated[tuple[User, AuthSession] | None, Depends(_optional_login)]


def _login(login: OptionalLogin) -> tuple[User, AuthSession]:
    if login is None:
        raise NotAuthenticated("log in first", code="not_authenticated")
    return login


Login = Annotated[tuple[User, AuthSession], Depends(_login)]


def _current_user(login: Login) -> User:
    return login[0]


def _optional_user(login: OptionalLogin) -> User | None:
    return login[0] if login else None


def _current_auth_session(login: Login) -> AuthSession:
    return login[1]


CurrentUser = Annotated[User, Depends(_current_user)]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
CurrentAuthSession = Annotated[AuthSession, Depends(_current_auth_session)]


def _writer(user: CurrentUser, limiter: RateLimiterDep, settings: ApiSettingsDep) -> User:
    """A logged-in user within the per-user write budget."""
    if not limiter.hit(
        f"write:user:{user.id}", limit=settings.writes_per_minute, window_seconds=60
    ):
        raise RateLimited("too many changes in a minute; slow down", code="rate_limited")
    return user


Writer = Annotated[User, Depends(_writer)]


def staff(permission: Permission) -> Callable[[User], User]:
    """A dependency that admits only users whose role grants `permission`."""

    def _staff(user: CurrentUser) -> User:
        require_permission(user, permission)
        return user

    return _staff


Reviewer = Annotated[User, Depends(staff(Permission.REVIEW_GOODS))]
VerificationOperator = Annotated[User, Depends(staff(Permission.DECIDE_VERIFICATION))]
UserAdmin = Annotated[User, Depends(staff(Permission.MANAGE_USERS))]
CategoryAdmin = Annotated[User, Depends(staff(Permission.MANAGE_CATEGORIES))]
SearchWatcher = Annotated[User, Depends(staff(Permission.WATCH_SEARCH))]
SearchAdmin = Annotated[User, Depends(staff(Permission.MANAGE_SEARCH))]
RankingAdmin = Annotated[User, Depends(staff(Permission.MANAGE_RANKING))]
OrderWatcher = Annotated[User, Depends(staff(Permission.SEE_ORDERS))]
DisputeResolver = Annotated[User, Depends(staff(Permission.RESOLVE_DISPUTES))]
PayoutOperator = Annotated[User, Depends(staff(Permission.PAY_OUT))]
CommissionAdmin = Annotated[User, Depends(staff(Permission.SET_COMMISSION))]


def _now(request: Request) -> datetime:
    # The app's clock: tests move it forward to cross deadlines.
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


Now = Annotated[datetime, Depends(_now)]


def _trade_settings(request: Request) -> TradeSettings:
    settings: TradeSettings = request.app.state.trade_settings
    return settings


TradeSettingsDep = Annotated[TradeSettings, Depends(_trade_settings)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="any unique string; a retry with the same key replays the first answer",
    ),
]


def _pagination(
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PageParams:
    return PageParams(page, page_size)


Pagination = Annotated[PageParams, Depends(_pagination)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
