"""Order lifecycles, the deadline sweeper and the money they move, on PostgreSQL, each
beside a peer baseline in the same run.

    .venv/bin/python benchmarks/trade_bench.py [--orders 2000] [--due 20000] \\
        [--workers 4,8] [--processes 2] \\
        [--url postgresql+psycopg2://postgres@127.0.0.1:5432/trade_bench] [--profile]

- lifecycles: place_order (through `catalog.buying.buy_now`, as POST /orders runs it),
  start_payment, sandbox_gateway.pay, verify + apply_notification (the webhook), the
  seller's video, confirm_video, ship, confirm_receipt (the release): each step in its own
  unit of work, as the API runs it. The users are loaded once (no login lookup per step).
  The video step runs two ways, side by side: the real `upload_video` service with a 4 s
  MP4 and a MediaStore in a temporary folder (box inspection, file write and fsync
  included) from 1 and each of `--workers` threads, and `machine.apply(...,
  "upload_video", ...)` on the locked order (no file) from 1 and the most threads.
  `--orders` lifecycles per run, each buying goods of its own, listed beforehand at
  varied prices. Then the service-video lifecycles again from `--processes` processes of
  the fewest `--workers` threads each, as `serve --workers N` runs requests: threads of
  one process share one GIL, processes do not.
- peer lifecycles: the machine.apply runs again with the ledger's `post` swapped for the
  first version one would write: read each account's balance, add in Python, write it
  back, no row lock. In a database of its own (`<name>_peer`), since its lost updates
  break the ledger's invariants; how many it broke is reported.
- sweeper: `catalog.jobs.sweep_orders` (batches of 500, one transaction each) over `--due`
  unpaid orders past their payment deadline, then over `--due` paid orders past their
  video deadline (each refunded out of escrow, funded by `money.take_payment` in the bulk
  set-up). The peer sweeps a twentieth as many of each kind, one order per transaction
  (claim one with SKIP LOCKED, the same machine.apply, commit).
- two sweepers at once, threads of this process, on a fresh set of `--due`/4 orders (half
  of each kind): throughput, and whether every order was swept exactly once (its timeout
  transitions counted).
- trade during a sweep: lifecycles from the fewest `--workers` threads while one sweeper
  takes `--due`/10 unpaid, then `--due`/10 paid orders; each step's latency meanwhile.
- invariants: `catalog.trade.invariants.violations` of the benchmark database at the end.

The JSON document goes to stdout, progress to stderr. The database given, and its `_peer`
sibling, are dropped and created again. This process's threads and PostgreSQL share the
machine's cores (the load average is recorded: other work on the box shows there); with
`--profile`, cProfile tables of a serial lifecycle run and of two sweeps go to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import random
import secrets
import statistics
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from time import perf_counter, process_time
from typing import Any, Literal
from unittest import mock

import av
from measure import load_averages, percentile, say
from sqlalchemy import Engine, create_engine, event, func, insert, make_url, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from catalog import jobs, schema
from catalog.buying import buy_now
from catalog.categories.models import Category
from catalog.clock import utcnow
from catalog.db import make_engine, make_session_factory, unit_of_work
from catalog.errors import CatalogError
from catalog.goods.models import Condition, Goods, GoodsStatus
from catalog.ledger import service as ledger
from catalog.ledger.models import (
    MAY_GO_NEGATIVE,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
)
from catalog.media.store import MediaStore
from catalog.seed.taxonomy import ensure_categories
from catalog.trade import invariants, machine, money, payments, repository, sandbox_gateway
from catalog.trade import service as trade
from catalog.trade.machine import Step
from catalog.trade.models import Actor, Order, OrderStatus, OrderTransition
from catalog.trade.settings import TradeSettings, get_trade_settings
from catalog.users.models import User

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/trade_bench"
TARGETS = {"lifecycles_per_second": 200, "sweep_orders_per_second": 2_000}
SEED = 20240601
BUYERS = 500  # lifecycles i and i+1..i+max(workers) never share a buyer (5 unpaid max)
SELLERS = 100
WARMUP = 40
PROFILE_LIFECYCLES = 200
# Users are written straight into the table: hashing passwords is not what is measured.
FIXED_HASH = "$argon2id$v=19$m=65536,t=3,p=4$benchmark$not-a-real-hash"
TIMEOUTS = ("expire", "video_timeout")
INSERT_CHUNK = 5_000

VideoWay = Literal["service", "machine"]
DueKind = Literal["unpaid", "paid"]
KINDS: tuple[DueKind, ...] = ("unpaid", "paid")


def load_average() -> float:
    """The machine's 1-minute load average: other work sharing the cores shows here."""
    return load_averages()[0]


# -- stores --------------------------------------------------------------------------------


def reset_database(url: URL) -> None:
    """Drop and create the database of `url`."""
    if url.database in (None, "", "postgres", "template0", "template1"):
        raise SystemExit("trade_bench: --url must name a database of its own (it is wiped)")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def server_settings(engine: Engine) -> dict[str, str]:
    """The server's version and the settings that decide what a commit costs."""
    with engine.connect() as connection:
        return {
            name: str(connection.scalar(text(f"SHOW {name}")))
            for name in ("server_version", "shared_buffers", "synchronous_commit", "fsync")
        }


@dataclass
class Store:
    """A migrated benchmark database with its categories and users."""

    engine: Engine
    factory: sessionmaker[Session]
    category_ids: list[int]
    buyers: list[User]
    sellers: list[User]
    statements: int = 0  # cursor executions so far (read while one thread runs)

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: URL, *, pool: int) -> Store:
    rendered = url.render_as_string(hide_password=False)
    reset_database(url)
    schema.upgrade(rendered)
    engine = make_engine(rendered, pool_size=pool, max_overflow=4)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        ensure_categories(session)
        category_ids = list(
            session.scalars(select(Category.id).where(Category.parent_id.is_not(None)))
        )
        buyers = _users(session, "buyer", BUYERS)
        sellers = _users(session, "seller", SELLERS)
    store = Store(engine, factory, category_ids, buyers, sellers)

    def _count(*_args: Any) -> None:
        store.statements += 1

    event.listen(engine, "before_cursor_execute", _count)
    return store


def _users(session: Session, role: str, count: int) -> list[User]:
    ids = session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": f"{role}-{n}@bench.example",
                "password_hash": FIXED_HASH,
                "nickname": f"{role} {n}",
                "verified_at": utcnow(),
            }
            for n in range(count)
        ],
    ).all()
    # Loaded once and used detached (expire_on_commit is off), like a login already made.
    by_id = {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))}
    return [by_id[user_id] for user_id in ids]


def insert_goods(
    session: Session,
    store: Store,
    rng: random.Random,
    *,
    count: int,
    status: GoodsStatus,
) -> list[tuple[int, User, int]]:
    """`count` goods rows written directly (no review, no outbox): (id, seller, price);
    consecutive goods belong to different sellers."""
    now = utcnow()
    conditions = list(Condition)
    made: list[tuple[int, User, int]] = []
    for start in range(0, count, INSERT_CHUNK):
        rows = []
        chosen: list[tuple[User, int]] = []
        for n in range(start, min(count, start + INSERT_CHUNK)):
            seller = store.sellers[n % len(store.sellers)]
            price = rng.choice((1, 5, 10, 50, 100)) * rng.randint(10, 2_000) * 10
            chosen.append((seller, price))
            rows.append(
                {
                    "seller_id": seller.id,
                    "category_id": rng.choice(store.category_ids),
                    "title": f"闲置好物 {n}",
                    "description": "自用闲置, 功能正常",
                    "price": price,
                    "original_price": price * 2,
                    "condition": rng.choice(conditions),
                    "city": "杭州",
                    "status": status,
                    "submitted_at": now,
                    "published_at": now,
                }
            )
        ids = session.scalars(
            insert(Goods).returning(Goods.id, sort_by_parameter_order=True), rows
        ).all()
        made += [
            (goods_id, seller, price) for goods_id, (seller, price) in zip(ids, chosen, strict=True)
        ]
    return made


# -- lifecycles ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lot:
    goods_id: int
    buyer: User
    seller: User


@dataclass
class Trip:
    """One lifecycle's state between its steps (each step is a transaction of its own)."""

    lot: Lot
    order_id: int = 0
    ref: str = ""
    body: bytes = b""
    signature: str = ""


TripStep = Callable[[Session, Trip], None]


@dataclass(frozen=True)
class Lifecycle:
    settings: TradeSettings
    video: VideoWay
    media: MediaStore
    clip: bytes

    def steps(self) -> list[tuple[str, TripStep]]:
        return [
            ("place_order", self.place_order),
            ("start_payment", self.start_payment),
            ("gateway_pay", self.gateway_pay),
            ("notification", self.notification),
            ("upload_video", self.video_service if self.video == "service" else self.video_step),
            ("confirm_video", self.confirm_video),
            ("ship", self.ship),
            ("confirm_receipt", self.confirm_receipt),
        ]

    def place_order(self, session: Session, trip: Trip) -> None:
        # What POST /orders runs: trade.place_order, then open offers on the goods declined.
        order = buy_now(
            session,
            buyer=trip.lot.buyer,
            goods_id=trip.lot.goods_id,
            now=utcnow(),
            settings=self.settings,
        )
        trip.order_id = order.id

    def start_payment(self, session: Session, trip: Trip) -> None:
        started = payments.start_payment(
            session, buyer=trip.lot.buyer, order_id=trip.order_id, now=utcnow()
        )
        trip.ref = started.payment.gateway_ref

    def gateway_pay(self, session: Session, trip: Trip) -> None:
        charge = sandbox_gateway.pay(session, ref=trip.ref, now=utcnow())
        assert charge.notification is not None
        assert charge.signature is not None
        trip.body, trip.signature = charge.notification.encode(), charge.signature

    def notification(self, session: Session, trip: Trip) -> None:
        notice = sandbox_gateway.verify(trip.body, trip.signature)
        outcome = payments.apply_notification(
            session, notification=notice, now=utcnow(), settings=self.settings
        )
        assert outcome == "applied", outcome

    def video_service(self, session: Session, trip: Trip) -> None:
        trade.upload_video(
            session,
            seller=trip.lot.seller,
            order_id=trip.order_id,
            data=self.clip,
            store=self.media,
            now=utcnow(),
            settings=self.settings,
        )

    def video_step(self, session: Session, trip: Trip) -> None:
        order = repository.get_order(session, trip.order_id, for_update=True)
        assert order is not None
        step = Step(utcnow(), Actor.SELLER, trip.lot.seller.id)
        machine.apply(session, order, "upload_video", step, settings=self.settings)
        session.flush()

    def confirm_video(self, session: Session, trip: Trip) -> None:
        trade.act(
            session,
            user=trip.lot.buyer,
            order_id=trip.order_id,
            action="confirm_video",
            now=utcnow(),
            settings=self.settings,
        )

    def ship(self, session: Session, trip: Trip) -> None:
        trade.ship(
            session,
            seller=trip.lot.seller,
            order_id=trip.order_id,
            carrier="SF",
            tracking_number=f"SF{trip.order_id:012d}",
            now=utcnow(),
            settings=self.settings,
        )

    def confirm_receipt(self, session: Session, trip: Trip) -> None:
        trade.act(
            session,
            user=trip.lot.buyer,
            order_id=trip.order_id,
            action="confirm_receipt",
            now=utcnow(),
            settings=self.settings,
        )


def run_one(
    factory: sessionmaker[Session], steps: Sequence[tuple[str, TripStep]], lot: Lot
) -> list[float]:
    """One lifecycle, a unit of work per step; each step's milliseconds."""
    trip = Trip(lot)
    timings = []
    for _name, step in steps:
        begun = perf_counter()
        with unit_of_work(factory) as session:
            step(session, trip)
        timings.append((perf_counter() - begun) * 1000)
    return timings


@dataclass
class Run:
    label: str
    workers: int
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process, all threads: the Python side of the work
    latencies_ms: list[float] = field(default_factory=list)
    step_ms: dict[str, list[float]] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        done = len(self.latencies_ms)
        return {
            "workers": self.workers,
            "lifecycles": done,
            "failed": sum(self.failures.values()),
            "failures": dict(self.failures),
            "seconds": round(self.seconds, 2),
            "lifecycles_per_second": round(done / self.seconds, 1) if self.seconds else 0.0,
            "transactions_per_second": round(8 * done / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.latencies_ms, 0.50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if done else None,
            "client_cpu_ms_per_lifecycle": round(1000 * self.cpu_seconds / done, 2)
            if done
            else None,
            "step_p50_ms": {
                name: round(percentile(values, 0.50), 2) for name, values in self.step_ms.items()
            },
            "step_p99_ms": {
                name: round(percentile(values, 0.99), 2) for name, values in self.step_ms.items()
            },
            "load_average_1m_after": load_average(),
        }


def run_lifecycles(
    factory: sessionmaker[Session],
    lifecycle: Lifecycle,
    lots: Sequence[Lot],
    *,
    workers: int,
    stop: threading.Event | None = None,
) -> Run:
    """Every lot's lifecycle (or as many as start before `stop` is set), `workers` threads
    taking the next lot as they finish one."""
    steps = lifecycle.steps()
    run = Run(lifecycle.video, workers, step_ms={name: [] for name, _ in steps})
    pending = iter(lots)
    lock = threading.Lock()

    def worker() -> None:
        latencies: list[float] = []
        per_step: list[list[float]] = []
        failures: Counter[str] = Counter()
        while stop is None or not stop.is_set():
            with lock:
                lot = next(pending, None)
            if lot is None:
                break
            begun = perf_counter()
            try:
                timings = run_one(factory, steps, lot)
            except CatalogError as error:
                failures[f"{type(error).__name__}:{error.code}"] += 1
                continue
            except Exception as error:  # the peer's lost races surface as database errors
                failures[type(error).__name__] += 1
                continue
            latencies.append((perf_counter() - begun) * 1000)
            per_step.append(timings)
        with lock:
            run.latencies_ms += latencies
            run.failures.update(failures)
            for timings in per_step:
                for (name, _), ms in zip(steps, timings, strict=True):
                    run.step_ms[name].append(ms)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started, cpu = perf_counter(), process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds, run.cpu_seconds = perf_counter() - started, process_time() - cpu
    return run


def make_lots(store: Store, rng: random.Random, count: int) -> list[Lot]:
    with unit_of_work(store.factory) as session:
        goods = insert_goods(session, store, rng, count=count, status=GoodsStatus.LISTED)
    return [
        Lot(goods_id, store.buyers[n % len(store.buyers)], seller)
        for n, (goods_id, seller, _price) in enumerate(goods)
    ]


def statements_per_step(store: Store, lifecycle: Lifecycle, lot: Lot) -> dict[str, int]:
    """SQL statements each step sends (the commit included), for one lifecycle."""
    trip = Trip(lot)
    counts = {}
    for name, step in lifecycle.steps():
        before = store.statements
        with unit_of_work(store.factory) as session:
            step(session, trip)
        counts[name] = store.statements - before
    counts["total"] = sum(counts.values())
    return counts


def item_video(seconds: float = 4.0, width: int = 64, height: int = 48) -> bytes:
    """A real, playable MP4 (mpeg4) like the tests' `mp4_video`, which benchmarks cannot
    import (tests/ is not an installed package)."""
    fps = 10
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("mpeg4", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        for index in range(round(seconds * fps)):
            pixels = bytes((index * 13 % 256, 90, 160, 255)) * (width * height)
            frame = av.VideoFrame.from_bytes(pixels, width, height, format="rgba")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


# -- the peer ledger -----------------------------------------------------------------------


def naive_post(
    session: Session,
    *,
    key: str,
    kind: str,
    lines: Sequence[tuple[ledger.Account, int]],
    order_id: int | None = None,
    withdrawal_id: int | None = None,
    memo: str = "",
) -> LedgerTransaction:
    """The ledger a first implementation writes: find (or open) each account, read its
    balance, add in Python, write the sum back. No lock is taken, so two transactions
    moving money through one account at once can lose one's update."""
    lines = [(account, amount) for account, amount in lines if amount != 0]
    if sum(amount for _, amount in lines) != 0:
        raise ValueError(f"unbalanced ledger transaction {key}: {lines}")
    transaction = LedgerTransaction(
        key=key, kind=kind, order_id=order_id, withdrawal_id=withdrawal_id, memo=memo
    )
    session.add(transaction)
    session.flush()
    for account, amount in lines:
        row = session.scalar(
            select(LedgerAccount).where(
                LedgerAccount.kind == account.kind, LedgerAccount.owner_id == account.owner_id
            )
        )
        if row is None:
            row = LedgerAccount(
                kind=account.kind,
                owner_id=account.owner_id,
                may_go_negative=account.kind in MAY_GO_NEGATIVE,
                balance=0,
            )
            session.add(row)
            session.flush()
        if row.balance + amount < 0 and not row.may_go_negative:
            raise ledger.InsufficientFunds(
                "not enough money in the account for this", account=account.kind.value
            )
        row.balance = row.balance + amount
        session.add(LedgerPosting(transaction_id=transaction.id, account_id=row.id, amount=amount))
    session.flush()
    return transaction


@contextmanager
def naive_ledger() -> Iterator[None]:
    """Every posting (money.take_payment, release, refund) through `naive_post` meanwhile."""
    with mock.patch.object(ledger, "post", naive_post):
        yield


# -- sweeper -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueSet:
    kind: str
    first_id: int
    last_id: int
    count: int
    setup_seconds: float


def make_due_orders(
    store: Store,
    rng: random.Random,
    *,
    unpaid: int,
    paid: int,
    settings: TradeSettings,
) -> DueSet:
    """Orders whose deadline passed up to an hour ago, written in bulk: `unpaid` awaiting
    payment and `paid` with the money in escrow (posted by `money.take_payment`) and no
    video; each with its goods reserved and its timeline so far."""
    started = perf_counter()
    now = utcnow()
    kinds = [OrderStatus.AWAITING_PAYMENT] * unpaid + [OrderStatus.PAID] * paid
    rng.shuffle(kinds)
    order_ids: list[int] = []
    for start in range(0, len(kinds), INSERT_CHUNK):
        chunk = kinds[start : start + INSERT_CHUNK]
        with unit_of_work(store.factory) as session:
            goods = insert_goods(session, store, rng, count=len(chunk), status=GoodsStatus.RESERVED)
            rows = []
            for n, (status, (goods_id, seller, price)) in enumerate(zip(chunk, goods, strict=True)):
                due = now - timedelta(seconds=rng.uniform(1, 3_600))
                if status is OrderStatus.PAID:
                    paid_at = due - timedelta(hours=settings.video_upload_hours)
                    created = paid_at - timedelta(minutes=5)
                else:
                    paid_at = None
                    created = due - timedelta(minutes=settings.unpaid_expiry_minutes)
                rows.append(
                    {
                        "goods_id": goods_id,
                        "buyer_id": store.buyers[(start + n) % len(store.buyers)].id,
                        "seller_id": seller.id,
                        "price": price,
                        "commission_rate_bp": settings.default_commission_bp,
                        "status": status,
                        "due_at": due,
                        "created_at": created,
                        "updated_at": paid_at or created,
                        "paid_at": paid_at,
                    }
                )
            ids = session.scalars(
                insert(Order).returning(Order.id, sort_by_parameter_order=True), rows
            ).all()
            timeline = []
            for order_id, row in zip(ids, rows, strict=True):
                timeline.append(
                    {
                        "order_id": order_id,
                        "name": "place",
                        "from_status": None,
                        "to_status": OrderStatus.AWAITING_PAYMENT,
                        "actor": Actor.BUYER,
                        "actor_id": row["buyer_id"],
                        "at": row["created_at"],
                    }
                )
                if row["status"] is OrderStatus.PAID:
                    timeline.append(
                        {
                            "order_id": order_id,
                            "name": "pay",
                            "from_status": OrderStatus.AWAITING_PAYMENT,
                            "to_status": OrderStatus.PAID,
                            "actor": Actor.SYSTEM,
                            "actor_id": None,
                            "at": row["paid_at"],
                        }
                    )
            session.execute(insert(OrderTransition), timeline)
            paid_ids = [
                order_id
                for order_id, row in zip(ids, rows, strict=True)
                if row["status"] is OrderStatus.PAID
            ]
            for order in session.scalars(select(Order).where(Order.id.in_(paid_ids))):
                money.take_payment(session, order)
            order_ids += ids
    with store.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    kind = "mixed" if unpaid and paid else ("unpaid" if unpaid else "paid")
    return DueSet(kind, min(order_ids), max(order_ids), len(order_ids), perf_counter() - started)


def sweep_one_at_a_time(factory: sessionmaker[Session]) -> int:
    """The peer sweeper: claim one due order, apply its timeout, commit; until none is due."""
    settings = get_trade_settings()
    handled = 0
    while True:
        with unit_of_work(factory) as session:
            now = utcnow()
            order = session.scalars(
                select(Order)
                .where(Order.due_at <= now)
                .order_by(Order.due_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if order is None:
                return handled
            deadline = machine.deadline_for(order.status, settings)
            if deadline is None:
                order.due_at = None
            else:
                step = Step(now, Actor.SYSTEM)
                machine.apply(session, order, deadline[1], step, settings=settings)
        handled += 1


def swept_figures(
    store: Store, due: DueSet, sweeper: Callable[[sessionmaker[Session]], int]
) -> dict[str, Any]:
    before = store.statements
    started = perf_counter()
    handled = sweeper(store.factory)
    seconds = perf_counter() - started
    return {
        "orders": due.count,
        "handled": handled,
        "seconds": round(seconds, 2),
        "orders_per_second": round(handled / seconds, 1),
        "statements_per_order": round((store.statements - before) / max(1, handled), 2),
        "setup_seconds": round(due.setup_seconds, 1),
        **swept_once(store, due),
    }


def swept_once(store: Store, due: DueSet) -> dict[str, Any]:
    """How many orders of the set took their timeout once, more than once, or never."""
    with store.factory() as session:
        taken = dict(
            session.execute(
                select(OrderTransition.order_id, func.count())
                .where(
                    OrderTransition.order_id.between(due.first_id, due.last_id),
                    OrderTransition.name.in_(TIMEOUTS),
                )
                .group_by(OrderTransition.order_id)
            ).all()
        )
        still_open = session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.id.between(due.first_id, due.last_id), Order.finished_at.is_(None))
        )
    return {
        "swept_once": sum(1 for n in taken.values() if n == 1),
        "swept_twice_or_more": sum(1 for n in taken.values() if n > 1),
        "never_swept": due.count - len(taken),
        "still_open": int(still_open or 0),
    }


def two_sweepers(store: Store, due: DueSet) -> dict[str, Any]:
    """`jobs.sweep_orders` from two threads at once over the same due orders."""
    handled = [0, 0]

    def sweeper(index: int) -> None:
        handled[index] = jobs.sweep_orders(store.factory)

    threads = [threading.Thread(target=sweeper, args=(i,)) for i in range(2)]
    started = perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = perf_counter() - started
    return {
        "orders": due.count,
        "kinds": "half unpaid, half paid, due times interleaved",
        "handled_by_each": handled,
        "seconds": round(seconds, 2),
        "orders_per_second": round(sum(handled) / seconds, 1),
        "setup_seconds": round(due.setup_seconds, 1),
        **swept_once(store, due),
    }


def payments_during_sweep(
    store: Store,
    rng: random.Random,
    lifecycle: Lifecycle,
    *,
    kind: DueKind,
    count: int,
    workers: int,
    settings: TradeSettings,
) -> dict[str, Any]:
    """`jobs.sweep_orders` over `count` due orders of `kind` in one thread while `workers`
    threads run lifecycles until it is done: what a sweep does to trade meanwhile."""
    unpaid, paid = (count, 0) if kind == "unpaid" else (0, count)
    due = make_due_orders(store, rng, unpaid=unpaid, paid=paid, settings=settings)
    lots = make_lots(store, rng, count)
    done = threading.Event()
    swept: dict[str, float] = {}

    def sweeper() -> None:
        started = perf_counter()
        swept["handled"] = jobs.sweep_orders(store.factory)
        swept["seconds"] = perf_counter() - started
        done.set()

    thread = threading.Thread(target=sweeper)
    thread.start()
    run = run_lifecycles(store.factory, lifecycle, lots, workers=workers, stop=done)
    thread.join()
    return {
        "due_orders": kind,
        "orders_swept": int(swept["handled"]),
        "sweep_seconds": round(swept["seconds"], 2),
        "sweep_orders_per_second": round(swept["handled"] / swept["seconds"], 1),
        "lifecycles_meanwhile": {"video_step": lifecycle.video, **run.figures()},
        **swept_once(store, due),
    }


# -- profiles ------------------------------------------------------------------------------


def profile(title: str, action: Callable[[], object], *, lines: int = 30) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(lines)
        print(f"\n===== profile: {title} (by {order}) =====", file=sys.stderr)
        print(out.getvalue(), file=sys.stderr)


# -- the run -------------------------------------------------------------------------------


def lifecycle_runs(
    store: Store,
    rng: random.Random,
    lifecycle: Lifecycle,
    *,
    orders: int,
    threads: Sequence[int],
) -> list[dict[str, Any]]:
    figures = []
    for count in threads:
        lots = make_lots(store, rng, orders)
        say(f"{orders} lifecycles, video via {lifecycle.video}, {count} thread(s)")
        run = run_lifecycles(store.factory, lifecycle, lots, workers=count)
        result = {"video_step": lifecycle.video, **run.figures()}
        say(
            f"  {result['lifecycles_per_second']:.1f} lifecycles/s, p50 {result['p50_ms']} ms,"
            f" p99 {result['p99_ms']} ms, failed {result['failed']}"
        )
        figures.append(result)
    return figures


@dataclass(frozen=True)
class ProcessShare:
    """What one process of a several-process run is given: its lots as ids, so the users
    are loaded in the process, and how to make its lifecycle."""

    url: str
    lots: list[tuple[int, int, int]]  # goods, buyer, seller
    warmup: list[tuple[int, int, int]]
    video: VideoWay
    media_root: str
    clip: bytes
    threads: int


def _lifecycles_in_a_process(share: ProcessShare, start: Any, results: Any) -> None:
    """One process of `processes_run`: warm up, wait for the others, run, report."""
    engine = make_engine(share.url, pool_size=share.threads + 2, max_overflow=4)
    factory = make_session_factory(engine)
    user_ids = {user_id for _, *parties in share.lots + share.warmup for user_id in parties}
    with unit_of_work(factory) as session:
        users = {
            user.id: user for user in session.scalars(select(User).where(User.id.in_(user_ids)))
        }

    def lots(ids: list[tuple[int, int, int]]) -> list[Lot]:
        return [Lot(goods, users[buyer], users[seller]) for goods, buyer, seller in ids]

    settings = get_trade_settings()
    lifecycle = Lifecycle(settings, share.video, MediaStore(Path(share.media_root)), share.clip)
    run_lifecycles(factory, lifecycle, lots(share.warmup), workers=1)
    start.wait()
    run = run_lifecycles(factory, lifecycle, lots(share.lots), workers=share.threads)
    results.put((run.latencies_ms, dict(run.failures), run.cpu_seconds))
    engine.dispose()


def processes_run(
    store: Store,
    rng: random.Random,
    lifecycle: Lifecycle,
    media_root: str,
    *,
    orders: int,
    processes: int,
    threads: int,
) -> dict[str, Any]:
    """`orders` lifecycles from `processes` processes of `threads` threads each, as
    `serve --workers N` would run them: each process has its own interpreter (and GIL)."""
    context = multiprocessing.get_context("spawn")
    ids = [(lot.goods_id, lot.buyer.id, lot.seller.id) for lot in make_lots(store, rng, orders)]
    warmups = [
        (lot.goods_id, lot.buyer.id, lot.seller.id)
        for lot in make_lots(store, rng, WARMUP // 4 * processes)
    ]
    start = context.Barrier(processes + 1)
    results = context.Queue()
    rendered = store.engine.url.render_as_string(hide_password=False)
    workers = [
        context.Process(
            target=_lifecycles_in_a_process,
            args=(
                ProcessShare(
                    rendered,
                    ids[number::processes],
                    warmups[number::processes],
                    lifecycle.video,
                    media_root,
                    lifecycle.clip,
                    threads,
                ),
                start,
                results,
            ),
        )
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    begun = perf_counter()
    run = Run(lifecycle.video, processes * threads)
    for _ in workers:
        latencies, failures, cpu_seconds = results.get(timeout=600)
        run.latencies_ms += latencies
        run.failures.update(failures)
        run.cpu_seconds += cpu_seconds
    run.seconds = perf_counter() - begun
    for worker in workers:
        worker.join()
    return {"video_step": lifecycle.video, "processes": processes, **run.figures()}


def sweep_kind(
    store: Store,
    rng: random.Random,
    kind: DueKind,
    count: int,
    sweeper: Callable[[sessionmaker[Session]], int],
    settings: TradeSettings,
) -> dict[str, Any]:
    name = "jobs.sweep_orders" if sweeper is jobs.sweep_orders else "one order per transaction"
    say(f"sweeper ({name}): {count} {kind} orders past their deadline")
    unpaid, paid = (count, 0) if kind == "unpaid" else (0, count)
    due = make_due_orders(store, rng, unpaid=unpaid, paid=paid, settings=settings)
    figures = swept_figures(store, due, sweeper)
    figures["load_average_1m_after"] = load_average()
    say(f"  {figures['orders_per_second']:,.0f} orders/s")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=2_000, help="lifecycles per run")
    parser.add_argument("--due", type=int, default=20_000, help="due orders per sweep kind")
    parser.add_argument("--workers", default="4,8", help="thread counts besides 1, comma-separated")
    parser.add_argument(
        "--url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL),
        help="PostgreSQL database of its own: dropped and created again",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="also run the lifecycles from this many processes (as serve --workers N does)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile tables on stderr")
    args = parser.parse_args(argv)
    workers = sorted({int(n) for n in args.workers.split(",") if n.strip()} - {1})
    most, fewest = max(workers, default=1), min(workers, default=1)
    url = make_url(args.url)
    peer_url = url.set(database=f"{url.database}_peer")
    # The gateway signs with this instead of making a key file under IDLEMARKET_HOME.
    os.environ.setdefault("TRADE_SANDBOX_SECRET", secrets.token_hex(16))
    get_trade_settings.cache_clear()
    settings = get_trade_settings()
    rng = random.Random(SEED)
    started = perf_counter()

    say(f"databases {url.database} and {peer_url.database}: dropped, created, migrated")
    store = open_store(url, pool=most + 2)
    peer = open_store(peer_url, pool=most + 2)
    report: dict[str, Any] = {
        "postgres": server_settings(store.engine),
        "cores": os.cpu_count(),
        "load_average_1m_at_start": load_average(),
        "targets": TARGETS,
    }
    clip = item_video()

    with tempfile.TemporaryDirectory(prefix="trade-bench-") as temp:
        media = MediaStore(Path(temp))
        service = Lifecycle(settings, "service", media, clip)
        direct = Lifecycle(settings, "machine", media, clip)
        for lifecycle in (service, direct):  # connections, statement caches, platform accounts
            run_lifecycles(store.factory, lifecycle, make_lots(store, rng, WARMUP), workers=1)
        spare = make_lots(store, rng, 2)
        report["lifecycles"] = {
            "steps": [name for name, _ in service.steps()],
            "note": (
                "each step its own unit of work; users loaded once (no login per step); "
                f"service video: trade.upload_video with a {len(clip):,}-byte 4 s MP4 into a "
                "MediaStore in a temporary folder (fsynced); machine video: machine.apply("
                "order, 'upload_video', Step(...)) on the locked order, no file"
            ),
            "statements_per_step": {
                "note": "cursor executions; pool_pre_ping's ping per transaction and COMMIT "
                "come on top",
                "video_via_service": statements_per_step(store, service, spare[0]),
                "video_via_machine": statements_per_step(store, direct, spare[1]),
            },
            "runs": lifecycle_runs(store, rng, service, orders=args.orders, threads=[1, *workers])
            + lifecycle_runs(store, rng, direct, orders=args.orders, threads=[1, most]),
        }
        if args.processes > 1:
            say(
                f"{args.orders} lifecycles, video via service, {args.processes} processes of "
                f"{fewest} thread(s)"
            )
            several = processes_run(
                store,
                rng,
                service,
                temp,
                orders=args.orders,
                processes=args.processes,
                threads=fewest,
            )
            say(
                f"  {several['lifecycles_per_second']:.1f} lifecycles/s, p50 {several['p50_ms']} "
                f"ms, p99 {several['p99_ms']} ms, failed {several['failed']}"
            )
            report["lifecycles"]["runs"].append(several)
        if args.profile:
            lots = make_lots(store, rng, PROFILE_LIFECYCLES)
            steps = direct.steps()
            profile(
                f"{PROFILE_LIFECYCLES} lifecycles, video via machine, 1 thread",
                lambda: [run_one(store.factory, steps, lot) for lot in lots],
            )

        say("peer lifecycles: the naive read-add-write ledger, in the _peer database")
        with naive_ledger():
            run_lifecycles(peer.factory, direct, make_lots(peer, rng, WARMUP), workers=1)
            peer_runs = lifecycle_runs(peer, rng, direct, orders=args.orders, threads=[1, most])
        with unit_of_work(peer.factory) as session:
            peer_broken = invariants.violations(session)
        peer.dispose()
        report["peer_lifecycles"] = {
            "baseline": (
                "the same steps (video via machine.apply) with ledger.post replaced by a naive "
                "read-balance, add-in-Python, write-balance version without row locks, in the "
                f"database {peer_url.database}"
            ),
            "runs": peer_runs,
            "invariant_violations": len(peer_broken),
            "invariant_violations_sample": peer_broken[:5],
        }

        peer_due = max(1, args.due // 20)
        during = max(1, args.due // 10)
        sweeps: dict[str, Any] = {
            "batch": 500,
            "peer_baseline": (
                "one transaction per due order: SELECT ... ORDER BY due_at LIMIT 1 FOR UPDATE "
                f"SKIP LOCKED, the same machine.apply, COMMIT; on {peer_due} orders per kind"
            ),
        }
        for kind in KINDS:
            sweeps[kind] = sweep_kind(store, rng, kind, args.due, jobs.sweep_orders, settings)
            sweeps[f"peer_{kind}"] = sweep_kind(
                store, rng, kind, peer_due, sweep_one_at_a_time, settings
            )
        both = max(2, args.due // 4)
        say(f"two sweepers at once: {both} orders, half unpaid, half paid")
        due_set = make_due_orders(
            store, rng, unpaid=both // 2, paid=both - both // 2, settings=settings
        )
        sweeps["two_at_once"] = two_sweepers(store, due_set)
        say(
            f"  {sweeps['two_at_once']['orders_per_second']:,.0f} orders/s; swept twice: "
            f"{sweeps['two_at_once']['swept_twice_or_more']}, never: "
            f"{sweeps['two_at_once']['never_swept']}"
        )
        for kind in KINDS:
            say(f"lifecycles ({fewest} threads) while one sweeper takes {during} {kind} orders")
            figures = payments_during_sweep(
                store, rng, service, kind=kind, count=during, workers=fewest, settings=settings
            )
            sweeps[f"lifecycles_during_{kind}_sweep"] = figures
            meanwhile = figures["lifecycles_meanwhile"]
            say(
                f"  {meanwhile['lifecycles_per_second']} lifecycles/s; notification p50 "
                f"{meanwhile['step_p50_ms']['notification']} ms, p99 "
                f"{meanwhile['step_p99_ms']['notification']} ms"
            )
        report["sweeper"] = sweeps

    if args.profile:
        for unpaid, paid in ((2_000, 0), (0, 2_000)):
            due_set = make_due_orders(store, rng, unpaid=unpaid, paid=paid, settings=settings)
            profile(
                f"sweep_orders over {due_set.count} {due_set.kind} orders",
                lambda: jobs.sweep_orders(store.factory),
            )

    with unit_of_work(store.factory) as session:
        broken = invariants.violations(session)
    store.dispose()
    report["invariant_violations"] = broken
    say(f"invariants.violations on {url.database}: {broken}")
    best = max(report["lifecycles"]["runs"], key=lambda run: run["lifecycles_per_second"])
    report["targets_met"] = {
        "lifecycles_per_second": best["lifecycles_per_second"] >= TARGETS["lifecycles_per_second"],
        "sweep_orders_per_second": min(
            sweeps["unpaid"]["orders_per_second"], sweeps["paid"]["orders_per_second"]
        )
        >= TARGETS["sweep_orders_per_second"],
    }
    report["load_average_1m_at_end"] = load_average()
    report["seconds"] = round(perf_counter() - started, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if not broken else 1


if __name__ == "__main__":
    sys.exit(main())
