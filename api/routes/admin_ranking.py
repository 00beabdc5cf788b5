from __future__ import annotations

import json

from fastapi import APIRouter, Response, status
from pydantic import ValidationError
from sqlalchemy import select

from api.deps import DbSession, RankingAdmin
from api.schemas.feed import (
    BannerIn,
    BannerListOut,
    BannerOut,
    RankingConfigIn,
    RankingConfigListOut,
    RankingConfigOut,
)
from catalog.banners import service as banners
from catalog.errors import InvalidInput
from catalog.events.models import RankingConfigVersion
from ranking import config_store
from ranking.config import RankingConfig

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/banners")
def list_banners(session: DbSession, _admin: RankingAdmin) -> BannerListOut:
    """Every banner, scheduled or not."""
    items = [BannerOut.of(b) for b in banners.all_banners(session)]
    return BannerListOut(items=items, total=len(items))


@router.post("/banners", status_code=status.HTTP_201_CREATED)
def create_banner(body: BannerIn, session: DbSession, _admin: RankingAdmin) -> BannerOut:
    """Add a carousel banner with an optional schedule."""
    return BannerOut.of(banners.save_banner(session, banner_id=None, **body.model_dump()))


@router.put("/banners/{banner_id}")
def replace_banner(
    banner_id: int, body: BannerIn, session: DbSession, _admin: RankingAdmin
) -> BannerOut:
    """Change a banner's image, link, position or schedule."""
    return BannerOut.of(banners.save_banner(session, banner_id=banner_id, **body.model_dump()))


@router.delete("/banners/{banner_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_banner(banner_id: int, session: DbSession, _admin: RankingAdmin) -> Response:
    """Remove a banner."""
    banners.delete_banner(session, banner_id=banner_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _config_out(row: RankingConfigVersion) -> RankingConfigOut:
    return RankingConfigOut(
        version=row.version,
        params=json.loads(row.params),
        note=row.note,
        published_at=row.published_at,
        active=row.active,
    )


@router.get("/ranking/configs")
def list_configs(session: DbSession, _admin: RankingAdmin) -> RankingConfigListOut:
    """Published ranking configurations, newest first (the newest active one is in force)."""
    rows = session.scalars(
        select(RankingConfigVersion).order_by(RankingConfigVersion.version.desc())
    ).all()
    return RankingConfigListOut(items=[_config_out(r) for r in rows], total=len(rows))


@router.post("/ranking/configs", status_code=status.HTTP_201_CREATED)
def publish_config(
    body: RankingConfigIn, session: DbSession, admin: RankingAdmin
) -> RankingConfigOut:
    """Publish a new ranking configuration; servers use it within seconds."""
    try:
        config = RankingConfig.from_mapping(body.params)
    except ValidationError as error:
        problem = error.errors()[0]
        raise InvalidInput(
            f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}",
            code="invalid_ranking_config",
            field="params",
        ) from error
    row = config_store.publish(session, config=config, note=body.note, published_by=admin.id)
    return _config_out(row)
