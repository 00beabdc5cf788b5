"""The sweeper applies some timeouts to a whole batch at once instead of through
machine.apply; those must keep exactly the effects the machine declares for them."""

from __future__ import annotations

from catalog.trade import machine
from catalog.trade.models import Actor, OrderStatus
from catalog.trade.sweeper import SET_TIMEOUTS


def test_set_timeouts_are_the_machines_cancel_relist_and_refund_transitions() -> None:
    for name, refunds in SET_TIMEOUTS.items():
        transition = machine.TRANSITIONS[name]
        expected = (machine._refund, machine._relist) if refunds else (machine._relist,)
        assert transition.effects == expected, name
        assert transition.target is OrderStatus.CANCELLED, name
        assert transition.actors == frozenset({Actor.SYSTEM}), name
