from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import DbSession, SearchAdmin, SearchWatcher
from api.schemas.search import ParkedOut, ReconcileOut, SearchStatusOut
from indexer import maintenance, relay
from indexer.engine import SearchEngine

router = APIRouter(prefix="/admin/search", tags=["admin"])


def _engine(request: Request) -> SearchEngine:
    engine: SearchEngine = request.app.state.search_engine
    return engine


@router.get("/status")
def search_status(request: Request, session: DbSession, _staff: SearchWatcher) -> SearchStatusOut:
    """Search health: the engine, documents indexed, the outbox backlog, parked documents."""
    engine = _engine(request)
    healthy = engine.health()
    backlog = relay.backlog(session)
    return SearchStatusOut(
        engine=engine.name,
        healthy=healthy,
        documents=engine.count() if healthy else None,
        pending=backlog.pending,
        parked=backlog.parked,
        oldest_pending_at=backlog.oldest_pending_at,
        last_processed_at=backlog.last_processed_at,
        parked_documents=[
            ParkedOut(
                outbox_id=row.id,
                goods_id=row.entity_id,
                attempts=row.attempts,
                last_error=row.last_error,
                parked_at=row.parked_at,
            )
            for row in relay.parked_rows(session)
        ],
        outdated_fields=engine.outdated_fields() if healthy else [],
    )


@router.post("/reconcile")
def reconcile(request: Request, session: DbSession, _admin: SearchAdmin) -> ReconcileOut:
    """Compare the index with the listed goods and repair every difference."""
    # The comparison runs its own short transactions. End the request's one (it only
    # checked the login) first: on SQLite's one-connection pool it would otherwise hold the
    # connection they wait for, and the call hung for the pool's 60 s timeout.
    session.commit()
    result = maintenance.reconcile(request.app.state.session_factory, _engine(request))
    return ReconcileOut(
        missing=result.missing, stale=result.stale, extra=result.extra, repaired=result.repaired
    )


@router.post("/retry-parked")
def retry_parked(session: DbSession, _admin: SearchAdmin) -> dict[str, int]:
    """Send parked documents again (after fixing what made them fail)."""
    return {"requeued": relay.retry_parked(session)}
