"""Search through the HTTP API with 1, 2 and 3 server processes (`serve --workers`), at
16 concurrent clients, on a prepared home folder, with the real query mix.

    export IDLEMARKET_HOME=/tmp/home
    idlemarket db upgrade && idlemarket seed --goods 100000
    python benchmarks/search_api_workers.py --home /tmp/home [--data ../shared/data]

The load comes from `wrk` (apt-get install wrk), which costs the shared cores far less
than Python threads; without it, from threads of this process. Either shares the two cores
with the servers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx2
from measure import api_server, percentile, say
from wrk_load import wrk_available, wrk_load


def load(base: str, queries: list[str], *, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        rng = random.Random(index)
        mine = []
        with httpx2.Client(base_url=base, timeout=30) as http:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                http.get("/api/v1/search", params={"q": rng.choice(queries)})
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args()
    source = args.data / "multicpr-queries" / "train.query.tsv"
    if not source.exists():
        sys.exit(f"no query file at {source}: pass --data")
    with source.open(encoding="utf-8") as lines:
        queries = [line.split("\t", 1)[1].strip() for line in lines][:2000]
    results = []
    targets = ["/api/v1/search?" + urlencode({"q": query}) for query in queries]
    for workers in (int(w) for w in args.workers.split(",")):
        env = {**os.environ, "IDLEMARKET_HOME": str(args.home)}
        with api_server(env, workers=workers) as (_, base):
            if wrk_available():
                # Several connections warm every process (a connection stays on one).
                wrk_load(base, targets[:200], connections=args.clients, seconds=3)
                figures = wrk_load(base, targets, connections=args.clients, seconds=args.seconds)
                row = {"load": "wrk", **figures.as_dict(rate_key="searches_per_second")}
            else:
                with httpx2.Client(base_url=base) as http:
                    for query in queries[:100]:  # warm-up
                        http.get("/api/v1/search", params={"q": query})
                latencies = load(base, queries, clients=args.clients, seconds=args.seconds)
                row = {
                    "load": "python threads",
                    "searches_per_second": round(len(latencies) / args.seconds),
                    "p50_ms": round(percentile(latencies, 0.5), 1),
                    "p99_ms": round(percentile(latencies, 0.99), 1),
                }
        row = {"workers": workers, "clients": args.clients, **row}
        say(json.dumps(row))
        results.append(row)
    print(json.dumps({"search_api": results}, indent=2))


if __name__ == "__main__":
    main()
