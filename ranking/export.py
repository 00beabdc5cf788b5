"""Exporting the event store for analysts (Parquet, streamed batch by batch)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.events.models import Event

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("type", pa.string()),
        ("goods_id", pa.int64()),
        ("user_id", pa.int64()),
        ("device_id", pa.string()),
        ("actor", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("surface", pa.string()),
        ("position", pa.int32()),
        ("request_id", pa.string()),
        ("ranker_version", pa.int32()),
        ("counted", pa.bool_()),
    ]
)
_COLUMNS = [field.name for field in SCHEMA]


def export_events(
    session: Session, *, since: datetime, until: datetime, out: Path, batch: int = 50_000
) -> int:
    """Write events with since ≤ ts < until to `out`; returns how many."""
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    last_id = 0
    with pq.ParquetWriter(out, SCHEMA) as writer:
        while True:
            rows = session.execute(
                select(*(getattr(Event, name) for name in _COLUMNS))
                .where(Event.ts >= since, Event.ts < until, Event.id > last_id)
                .order_by(Event.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            columns = {name: [getattr(row, name) for row in rows] for name in _COLUMNS}
            writer.write_table(pa.table(columns, schema=SCHEMA))
            written += len(rows)
            last_id = rows[-1].id
        if written == 0:
            writer.write_table(SCHEMA.empty_table())
    return written
