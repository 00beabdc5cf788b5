"""Operators pay withdrawals out by hand, so their list names the account to pay (masked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.trade.support import Trade, assert_ledger_sound, make_trade


@pytest.fixture
def trade(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Iterator[Trade]:
    world = make_trade(app, client, session, media_root)
    yield world
    assert_ledger_sound(session)


def test_operator_sees_the_payout_account_masked(trade: Trade) -> None:
    trade.completed()
    account = trade.post(
        "/wallet/payout-accounts",
        "seller",
        json={"kind": "alipay", "holder_name": "王小明", "number": "13800138000"},
    )
    assert account.status_code == 201, account.text
    requested = trade.post(
        "/withdrawals", "seller", json={"payout_account_id": account.json()["id"], "amount": 100_00}
    )
    assert requested.status_code == 201, requested.text

    listed = trade.get("/admin/withdrawals", "operator")
    assert listed.status_code == 200, listed.text
    (item,) = [w for w in listed.json()["items"] if w["id"] == requested.json()["id"]]
    assert item["payout_account"] == {
        "id": account.json()["id"],
        "kind": "alipay",
        "holder_name": "王小明",
        "number_masked": "138****8000",
        "created_at": account.json()["created_at"],
    }
    assert "13800138000" not in listed.text
