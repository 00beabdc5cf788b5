"""The Celery app (`celery -A worker.celery_app:app worker` / `beat`)."""

from __future__ import annotations

import os

from celery import Celery

from ranking.jobs import ALL_JOBS

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

app = Celery("idlemarket", broker=REDIS_URL, include=["worker.tasks"])
app.conf.update(
    task_acks_late=True,  # a task lost with its worker runs again; jobs are idempotent
    worker_prefetch_multiplier=1,
    task_default_queue="idlemarket",
    timezone="UTC",
    beat_schedule={
        job.name: {
            "task": "worker.tasks.run_periodic_job",
            "schedule": job.interval_seconds,
            "args": (job.name,),
        }
        for job in ALL_JOBS
    }
    | {"relay-outbox": {"task": "worker.tasks.relay_outbox", "schedule": 2.0}},
)
