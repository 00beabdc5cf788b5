"""The newcomer's path: `idlemarket demo` on a fresh home folder serves a working platform."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from api.demo import DEMO_ACCOUNTS
from catalog.settings import get_settings
from tests.servers import free_port, wait_until_up


def test_cli_migrates_creates_staff_and_seeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "database_url", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setattr(get_settings(), "media_root", tmp_path / "media")
    runner = CliRunner()

    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    created = runner.invoke(
        cli,
        [
            "create-user",
            "--role",
            "admin",
            "--email",
            "boss@example.com",
            "--password",
            "s3cret-pass",
        ],
    )
    assert created.exit_code == 0, created.output
    assert "created admin" in created.output
    duplicate = runner.invoke(
        cli, ["create-user", "--email", "boss@example.com", "--password", "s3cret-pass"]
    )
    assert duplicate.exit_code == 1
    assert "already registered" in duplicate.output
    short = runner.invoke(cli, ["create-user", "--email", "x@example.com", "--password", "short"])
    assert short.exit_code != 0

    seeded = runner.invoke(cli, ["seed", "--goods", "60", "--sellers", "5"])
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 60 goods" in seeded.output


def test_cli_index_commands_rebuild_reconcile_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexer.settings import get_search_settings

    monkeypatch.setattr(get_settings(), "database_url", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setattr(get_settings(), "media_root", tmp_path / "media")
    monkeypatch.setattr(get_search_settings(), "search_root", tmp_path / "search")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["seed", "--goods", "80", "--sellers", "4"]).exit_code == 0

    status = runner.invoke(cli, ["index", "status"])
    assert status.exit_code == 0, status.output
    assert "engine embedded (healthy)" in status.output
    assert "pending 0" in status.output  # seed ends with a rebuild that covers its rows

    rebuilt = runner.invoke(cli, ["index", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "reconcile found 0 differences" in rebuilt.output

    checked = runner.invoke(cli, ["index", "reconcile", "--dry-run"])
    assert "missing 0, stale 0, extra 0" in checked.output
    relayed = runner.invoke(cli, ["index", "relay", "--once"])
    assert "relayed 0 outbox rows" in relayed.output


def test_demo_serves_the_platform_with_its_accounts(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "IDLEMARKET_HOME": str(tmp_path / "var"),
        "PORT": str(port),
        "FIELD_ENCRYPTION_KEY": "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "demo", "--goods", "300"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(
            f"{base}/api/v1/healthz",
            server,
            seconds=90,
            output=lambda: server.stdout.read() if server.stdout else "",
        )
        with httpx2.Client(base_url=base, timeout=10) as http:
            assert http.get("/docs").status_code == 200
            categories = http.get("/api/v1/categories").json()
            assert [node["name"] for node in categories["items"]][:3] == [
                "手机",
                "数码",
                "电脑办公",
            ]
            for account in DEMO_ACCOUNTS:
                login = http.post(
                    "/api/v1/auth/login",
                    json={"email": account.email, "password": account.password},
                )
                assert login.status_code == 200, login.text
                assert login.json()["user"]["role"] == account.role.value
            seller = next(a for a in DEMO_ACCOUNTS if a.email.startswith("seller"))
            token = http.post(
                "/api/v1/auth/login", json={"email": seller.email, "password": seller.password}
            ).json()["token"]
            mine = http.get("/api/v1/me/goods", headers={"Authorization": f"Bearer {token}"})
            statuses = sorted(item["status"] for item in mine.json()["items"])
            assert statuses == ["draft", "listed", "pending_review", "rejected"]
            listed = next(i for i in mine.json()["items"] if i["status"] == "listed")
            assert http.get(listed["photo"]).headers["content-type"] == "image/jpeg"
            found = http.get("/api/v1/search", params={"q": "shouji"}).json()
            assert found["total"] > 0
            assert found["facets"]["condition"]
            _shopper_buys_and_the_gateway_notifies_the_server(http, listed["id"])
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "shopper@example.com" in output
    assert f"http://127.0.0.1:{port}" in output


def _shopper_buys_and_the_gateway_notifies_the_server(http: httpx2.Client, goods_id: int) -> None:
    """The sandbox gateway's courier (a background job of the server) posts its signed
    notification over real HTTP to the server's webhook, and the order becomes paid."""
    shopper = next(a for a in DEMO_ACCOUNTS if a.email.startswith("shopper"))
    token = http.post(
        "/api/v1/auth/login", json={"email": shopper.email, "password": shopper.password}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    order = http.post("/api/v1/orders", json={"goods_id": goods_id}, headers=auth)
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    payment = http.post(f"/api/v1/orders/{order_id}/pay", headers=auth).json()
    assert http.post(payment["pay_url"]).status_code == 200
    deadline = time.monotonic() + 15
    status = "awaiting_payment"
    while status != "paid" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = http.get(f"/api/v1/orders/{order_id}", headers=auth).json()["status"]
    assert status == "paid"


def test_cli_publishes_ranking_configs_and_exports_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import pyarrow.parquet as pq

    from catalog.db import make_engine, make_session_factory, unit_of_work
    from catalog.events.models import Event

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(get_settings(), "database_url", url)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0

    good = tmp_path / "tuned.json"
    good.write_text(json.dumps({"half_life_hours": 8, "event_weights": {"click": 1, "order": 20}}))
    published = runner.invoke(cli, ["ranking", "publish", str(good)])
    assert published.exit_code == 0, published.output
    assert "version 1" in published.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"half_life_hours": 0}))
    refused = runner.invoke(cli, ["ranking", "publish", str(bad)])
    assert refused.exit_code == 1
    assert "not a valid ranking configuration" in refused.output

    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with unit_of_work(make_session_factory(make_engine(url))) as session:
        session.add_all(
            Event(type="click", goods_id=n, actor=f"d:{n}", ts=now - timedelta(hours=n))
            for n in range(1, 6)
        )
    out = tmp_path / "events.parquet"
    since = (now - timedelta(hours=3, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")
    exported = runner.invoke(cli, ["events", "export", "--out", str(out), "--since", since])
    assert exported.exit_code == 0, exported.output
    table = pq.read_table(out)
    assert sorted(table.column("goods_id").to_pylist()) == [1, 2, 3]
    assert table.schema.field("ts").type.tz == "UTC"
