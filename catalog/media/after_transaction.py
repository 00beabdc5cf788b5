"""Files follow the transaction: written before the row, removed if it does not commit;
removed after the row's deletion commits, never before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction


class _AfterTransaction:
    """Runs file clean-up once the session's transaction ends the given way, never otherwise.

    The listeners stay on the session (removing them while SQLAlchemy dispatches the event is
    not allowed); `done` makes them inert. Sessions live for one request or task.
    """

    def __init__(self, session: Session, action: Callable[[], Any], *, on_commit: bool) -> None:
        self.action = action
        self.on_commit = on_commit
        self.done = False
        event.listen(session, "after_commit", self._committed)
        event.listen(session, "after_soft_rollback", self._rolled_back)

    def _committed(self, _session: Session) -> None:
        self._finish(run=self.on_commit)

    def _rolled_back(self, _session: Session, previous: SessionTransaction) -> None:
        # Only the outermost transaction decides; a savepoint rolling back does not.
        if previous.parent is None:
            self._finish(run=not self.on_commit)

    def _finish(self, *, run: bool) -> None:
        if self.done:
            return
        self.done = True
        if run:
            self.action()


def after_commit(session: Session, action: Callable[[], Any]) -> None:
    """Run `action` once the transaction commits (deleting files it no longer needs)."""
    _AfterTransaction(session, action, on_commit=True)


def after_rollback(session: Session, action: Callable[[], Any]) -> None:
    """Run `action` if the transaction rolls back (deleting files written for it)."""
    _AfterTransaction(session, action, on_commit=False)
