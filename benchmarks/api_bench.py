"""Read and write throughput of the JSON API on the embedded SQLite default and on
PostgreSQL, side by side in one run, against the same seeded catalog.

    .venv/bin/python benchmarks/api_bench.py [--goods N] [--seconds S] [--clients C]
        [--postgres postgresql+psycopg2://postgres@127.0.0.1:5432/bench]

The PostgreSQL database given is wiped. Each backend gets a fresh server process
(`idlemarket serve`) and the load comes from threads of this process on the same machine,
so the figures are for a 2-core box where client and server share the CPU.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from measure import api_server
from sqlalchemy import select, text

from catalog import schema
from catalog.db import make_engine, make_session_factory
from catalog.goods.models import Goods, GoodsStatus
from catalog.models import Base
from catalog.seed.bulk import seed_catalog


@dataclass(frozen=True)
class Result:
    backend: str
    scenario: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def row(self) -> str:
        ordered = sorted(self.latencies_ms) or [0.0]
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        rate = self.requests / self.seconds
        return (
            f"{self.backend:<10} {self.scenario:<28} {rate:>9,.0f} {p50:>8.1f} {p99:>8.1f}"
            f" {self.errors:>7}"
        )


def prepare(url: str, home: Path, goods: int) -> list[int]:
    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    schema.upgrade(url)
    seed_catalog(
        make_session_factory(engine), goods=goods, media_root=home / "media", progress=False
    )
    with engine.connect() as connection:
        ids = list(
            connection.scalars(select(Goods.id).where(Goods.status == GoodsStatus.LISTED)).all()
        )
    engine.dispose()
    return ids


def server_env(url: str, home: Path) -> dict[str, str]:
    # Generous limits: the benchmark measures throughput, not the rate limiter.
    return {
        **os.environ,
        "DATABASE_URL": url,
        "IDLEMARKET_HOME": str(home),
        "WRITES_PER_MINUTE": "100000000",
    }


def load(
    base: str,
    scenario: Callable[[httpx2.Client, random.Random], int],
    *,
    clients: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> tuple[int, int, float, list[float]]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        rng = random.Random(index)
        local: list[float] = []
        failed = 0
        with httpx2.Client(base_url=base, timeout=30, headers=headers) as http:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                status = scenario(http, rng)
                local.append((time.perf_counter() - started) * 1000)
                failed += status >= 400
        with lock:
            latencies.extend(local)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), errors[0], time.monotonic() - started, latencies


def run_backend(
    name: str, url: str, home: Path, *, goods: int, clients: int, seconds: float
) -> list[Result]:
    ids = prepare(url, home, goods)
    with api_server(server_env(url, home)) as (_, base):
        with httpx2.Client(base_url=base) as http:
            token = http.post(
                "/api/v1/auth/register",
                json={"email": f"bench-{name}@example.com", "password": "bench-pass-1"},
            ).json()["token"]
            category_id = http.get("/api/v1/categories").json()["items"][0]["children"][0]["id"]
        auth = {"Authorization": f"Bearer {token}"}

        def read_goods(http: httpx2.Client, rng: random.Random) -> int:
            return http.get(f"/api/v1/goods/{rng.choice(ids)}").status_code

        def create_draft(http: httpx2.Client, rng: random.Random) -> int:
            body = {
                "category_id": category_id,
                "title": f"压测商品 {rng.randrange(10**6)}",
                "price": rng.randrange(100, 100_000),
                "condition": "95新",
                "city": "上海",
            }
            return http.post("/api/v1/goods", json=body).status_code

        def my_goods_page(http: httpx2.Client, rng: random.Random) -> int:
            return http.get("/api/v1/me/goods?page_size=20").status_code

        scenarios: list[tuple[str, Callable[[httpx2.Client, random.Random], int], bool]] = [
            ("GET /goods/{id}", read_goods, False),
            ("POST /goods (draft)", create_draft, True),
            ("GET /me/goods (auth, page)", my_goods_page, True),
        ]
        results = []
        for label, scenario, needs_auth in scenarios:
            count, errors, elapsed, latencies = load(
                base,
                scenario,
                clients=clients,
                seconds=seconds,
                headers=auth if needs_auth else None,
            )
            results.append(Result(name, label, count, errors, elapsed, latencies))
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", ""))
    args = parser.parse_args()

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        backends = [("sqlite", f"sqlite:///{home / 'bench.db'}")]
        if args.postgres:
            backends.append(("postgres", args.postgres))
        else:
            print("(no --postgres URL: PostgreSQL column skipped)")
        for name, url in backends:
            results += run_backend(
                name, url, home / name, goods=args.goods, clients=args.clients, seconds=args.seconds
            )
    print(f"{args.goods:,} goods seeded, {args.clients} client threads, {args.seconds:.0f} s each")
    print(
        f"{'backend':<10} {'scenario':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for result in results:
        print(result.row())


if __name__ == "__main__":
    main()
