"""Scheduling carousel banners (admins) and reading the ones on show (everyone)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from catalog.banners.models import Banner
from catalog.errors import InvalidInput, NotFound


def banners_on_show(session: Session, *, now: datetime) -> list[Banner]:
    return list(
        session.scalars(
            select(Banner)
            .where(
                Banner.active.is_(True),
                or_(Banner.starts_at.is_(None), Banner.starts_at <= now),
                or_(Banner.ends_at.is_(None), Banner.ends_at > now),
            )
            .order_by(Banner.position, Banner.id)
        ).all()
    )


def all_banners(session: Session) -> list[Banner]:
    return list(session.scalars(select(Banner).order_by(Banner.position, Banner.id)).all())


def save_banner(
    session: Session,
    *,
    banner_id: int | None,
    title: str,
    image: str,
    link: str,
    position: int,
    starts_at: datetime | None,
    ends_at: datetime | None,
    active: bool,
) -> Banner:
    """Create (banner_id None) or replace a banner."""
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidInput(
            "a banner must end after it starts", code="invalid_schedule", field="ends_at"
        )
    if not (link.startswith("/") or link.startswith("https://")):
        raise InvalidInput("links are site paths or https URLs", code="invalid_link", field="link")
    if banner_id is None:
        banner = Banner()
        session.add(banner)
    else:
        found = session.get(Banner, banner_id)
        if found is None:
            raise NotFound("no such banner", code="banner_not_found")
        banner = found
    banner.title, banner.image, banner.link, banner.position = title, image, link, position
    banner.starts_at, banner.ends_at, banner.active = starts_at, ends_at, active
    session.flush()
    return banner


def delete_banner(session: Session, *, banner_id: int) -> None:
    banner = session.get(Banner, banner_id)
    if banner is None:
        raise NotFound("no such banner", code="banner_not_found")
    session.delete(banner)
    session.flush()
