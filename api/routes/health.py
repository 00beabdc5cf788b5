from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import DbSession

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str
    database: str


@router.get("/healthz")
def healthz(session: DbSession) -> HealthOut:
    """Liveness and database reachability, for load balancers and compose health checks."""
    session.execute(text("SELECT 1"))
    return HealthOut(status="ok", database=session.get_bind().dialect.name)
