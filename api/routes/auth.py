from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import (
    ApiSettingsDep,
    CurrentAuthSession,
    DbSession,
    RateLimiterDep,
    client_address,
)
from api.schemas.users import LoginIn, RegisterIn, TokenOut, UserOut
from catalog.errors import RateLimited
from catalog.users import service as users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(
    body: RegisterIn,
    request: Request,
    session: DbSession,
    limiter: RateLimiterDep,
    settings: ApiSettingsDep,
) -> TokenOut:
    """Create an account with a phone number or an email and a password; returns a session."""
    if not limiter.hit(
        f"register:ip:{client_address(request)}",
        limit=settings.registrations_per_hour,
        window_seconds=3600,
    ):
        raise RateLimited("too many registrations from here; try later", code="rate_limited")
    login = users.Login(email=body.normalized_email(), phone=body.phone)
    user = users.register(
        session, login=login, password=body.password, nickname=body.default_nickname()
    )
    issued = users.open_session(session, user=user)
    return TokenOut(
        token=issued.token, expires_at=issued.auth_session.expires_at, user=UserOut.of(user)
    )


@router.post("/login")
def login(
    body: LoginIn,
    request: Request,
    session: DbSession,
    limiter: RateLimiterDep,
    settings: ApiSettingsDep,
) -> TokenOut:
    """Exchange a phone or email and password for a bearer token."""
    who = body.normalized_email() or body.phone or ""
    window = settings.login_window_seconds
    limit = settings.login_attempts_per_window
    # Both per account (guessing one password) and per address (trying many accounts).
    if not (
        limiter.hit(f"login:id:{who}", limit=limit, window_seconds=window)
        and limiter.hit(
            f"login:ip:{client_address(request)}", limit=limit * 5, window_seconds=window
        )
    ):
        raise RateLimited("too many login attempts; wait a few minutes", code="rate_limited")
    issued = users.log_in(
        session,
        login=users.Login(email=body.normalized_email(), phone=body.phone),
        password=body.password,
    )
    return TokenOut(
        token=issued.token, expires_at=issued.auth_session.expires_at, user=UserOut.of(issued.user)
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(session: DbSession, auth_session: CurrentAuthSession) -> Response:
    """Revoke the session of the token used for this request."""
    users.log_out(session, auth_session=auth_session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
