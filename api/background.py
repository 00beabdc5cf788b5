"""The embedded default's stand-in for Celery beat: each periodic job in a daemon thread."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from catalog.jobs import PeriodicJob

log = logging.getLogger(__name__)


class BackgroundJobs:
    def __init__(self, jobs: Sequence[PeriodicJob], factory: sessionmaker[Session]) -> None:
        self._jobs = jobs
        self._factory = factory
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.rounds: dict[str, int] = {job.name: 0 for job in jobs}

    def start(self) -> None:
        for job in self._jobs:
            thread = threading.Thread(target=self._loop, args=(job,), name=job.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, job: PeriodicJob) -> None:
        # Run once at start-up, then every interval, until stopped.
        while not self._stop.is_set():
            try:
                job.run(self._factory)
            except Exception:
                # A failing round must not kill the loop; the next round tries again.
                log.exception("periodic job %s failed", job.name)
            self.rounds[job.name] += 1
            self._stop.wait(job.interval_seconds)


class BackgroundLeader:
    """An exclusive lock under the home folder: the server process holding it runs the
    periodic jobs and the relay; the others only serve requests."""

    def __init__(self, home: Path) -> None:
        self._path = home / "background.lock"
        self._fd: int | None = None

    def acquire(self) -> BackgroundLeader | None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
