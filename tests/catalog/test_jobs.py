"""Periodic jobs: what they do, and that both runners (threads and Celery) run them."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.background import BackgroundJobs
from catalog.clock import utcnow
from catalog.jobs import PeriodicJob, purge_dead_sessions
from catalog.users.models import AuthSession
from ranking.jobs import ALL_JOBS, job_named
from tests.factories import make_user


def _sessions(session: Session) -> dict[str, AuthSession]:
    user = make_user(session)
    now = utcnow()
    rows = {
        "live": AuthSession(
            user_id=user.id, token_hash="a" * 64, expires_at=now + timedelta(days=1)
        ),
        "expired_long_ago": AuthSession(
            user_id=user.id, token_hash="b" * 64, expires_at=now - timedelta(days=8)
        ),
        "expired_recently": AuthSession(
            user_id=user.id, token_hash="c" * 64, expires_at=now - timedelta(hours=1)
        ),
        "revoked_long_ago": AuthSession(
            user_id=user.id,
            token_hash="d" * 64,
            expires_at=now + timedelta(days=20),
            revoked_at=now - timedelta(days=9),
        ),
    }
    session.add_all(rows.values())
    session.commit()
    return rows


def _left(session: Session, rows: dict[str, AuthSession]) -> set[str]:
    ids = {row.id: name for name, row in rows.items()}
    found = session.scalars(select(AuthSession.id).where(AuthSession.id.in_(ids))).all()
    return {ids[row_id] for row_id in found}


def test_purge_keeps_live_and_recent_sessions(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    rows = _sessions(session)
    assert purge_dead_sessions(session_factory) >= 2
    assert _left(session, rows) == {"live", "expired_recently"}


def test_embedded_runner_runs_jobs_in_threads_and_survives_a_failing_round(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    rows = _sessions(session)
    calls: list[int] = []

    def flaky(_factory: sessionmaker[Session]) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first round fails")
        return 0

    runner = BackgroundJobs(
        [job_named("purge-dead-sessions"), PeriodicJob("flaky", 0.01, flaky)], session_factory
    )
    runner.start()
    deadline = time.monotonic() + 5
    while (
        len(calls) < 3 or runner.rounds["purge-dead-sessions"] < 1
    ) and time.monotonic() < deadline:
        time.sleep(0.01)
    runner.stop()
    assert len(calls) >= 3
    assert _left(session, rows) == {"live", "expired_recently"}


def test_celery_beat_schedules_every_job_and_the_task_runs_it(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker import tasks
    from worker.celery_app import app

    scheduled = {
        entry["args"][0]
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "worker.tasks.run_periodic_job"
    }
    assert scheduled == {job.name for job in ALL_JOBS}
    assert any(e["task"] == "worker.tasks.relay_outbox" for e in app.conf.beat_schedule.values())
    rows = _sessions(session)
    monkeypatch.setattr(tasks, "_session_factory", lambda: session_factory)
    result = tasks.run_periodic_job.apply(args=("purge-dead-sessions",))
    assert result.successful()
    assert result.get() >= 2
    assert _left(session, rows) == {"live", "expired_recently"}


def test_only_one_server_process_leads_the_background_work(tmp_path: Path) -> None:
    from api.background import BackgroundLeader

    first = BackgroundLeader(tmp_path).acquire()
    assert first is not None
    assert BackgroundLeader(tmp_path).acquire() is None
    first.release()
    again = BackgroundLeader(tmp_path).acquire()
    assert again is not None
    again.release()


def test_a_worker_process_can_write_the_ledger(tmp_path: Path) -> None:
    # A process that loads only what `celery -A worker.celery_app` loads never imports the
    # wallet; its flushes still order writes by every foreign key (ledger → withdrawals).
    script = f"""
from worker import tasks
from catalog.db import Base, make_engine, make_session_factory, unit_of_work
from catalog.ledger import service as ledger
from catalog.users.models import User

engine = make_engine("sqlite:///{tmp_path / "worker.db"}")
factory = make_session_factory(engine)
Base.metadata.create_all(engine)
with unit_of_work(factory) as session:
    seller = User(email="s@example.com", password_hash="x", nickname="卖家")
    session.add(seller)  # pending: the posting's statements flush it first
    session.flush()
    ledger.post(
        session,
        key="sale",
        kind="test",
        lines=[(ledger.GATEWAY, -500), (ledger.available(seller.id), 500)],
    )
with unit_of_work(factory) as session:
    print(ledger.balance(session, ledger.available(1)))
"""
    done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["500"]
