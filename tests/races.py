"""Racing calls on real connections: every call on its own thread, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable

from catalog.errors import CatalogError


def race(calls: list[Callable[[], str]]) -> tuple[list[str], list[BaseException]]:
    """Run every call on its own thread, released together; their outcomes (a refusal's
    code for CatalogError) and anything else they raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], str]) -> None:
        barrier.wait()
        try:
            outcome = call()
        except CatalogError as error:
            outcome = error.code
        except BaseException as error:  # anything but a refusal is a failure, asserted on
            with lock:
                unexpected.append(error)
            return
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing call hung"
    return outcomes, unexpected
