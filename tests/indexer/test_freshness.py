"""Freshness in the embedded default: approved goods are searchable, and withdrawn goods
gone, within a second, through the server's own relay thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.ratelimit import MemoryRateLimiter
from catalog import schema
from catalog.db import make_engine, unit_of_work
from catalog.seed.taxonomy import ensure_categories
from catalog.users.models import Role
from indexer.embedded import EmbeddedEngine
from tests.factories import goods_body, leaf_category, login, make_user, png_bytes

BOUND_SECONDS = 1.0
ROUNDS = 10


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Session]]:
    """A server on its own SQLite file with its background threads running."""
    from catalog.settings import get_settings

    url = f"sqlite:///{tmp_path / 'live.db'}"
    schema.upgrade(url)
    database = make_engine(url)
    monkeypatch.setattr(get_settings(), "media_root", tmp_path / "media")
    app = create_app(
        engine=database,
        rate_limiter=MemoryRateLimiter(),
        search_engine=EmbeddedEngine(tmp_path / "search"),
        background_jobs=True,
    )
    with unit_of_work(app.state.session_factory) as session:
        ensure_categories(session)
    with TestClient(app) as client, app.state.session_factory() as session:
        yield client, session
    database.dispose()


def _seconds_until(client: TestClient, query: str, *, present: bool) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < 5:
        found = client.get("/api/v1/search", params={"q": query}).json()["total"] > 0
        if found == present:
            return time.perf_counter() - started
        time.sleep(0.01)
    return float("inf")


def test_approved_goods_appear_and_withdrawn_goods_vanish_within_a_second(
    live: tuple[TestClient, Session],
) -> None:
    client, session = live
    with session.begin():
        seller_user, reviewer_user = make_user(session), make_user(session, role=Role.REVIEWER)
        category_id = leaf_category(session).id
    seller, reviewer = login(client, seller_user), login(client, reviewer_user)
    appear, vanish = [], []
    for n in range(ROUNDS):
        word = f"freshness{n}x"
        body = goods_body(category_id, title=f"测试商品 {word}")
        goods_id = client.post("/api/v1/goods", json=body, headers=seller).json()["id"]
        client.post(
            f"/api/v1/goods/{goods_id}/photos",
            files={"file": ("p.png", png_bytes(), "image/png")},
            headers=seller,
        )
        client.post(f"/api/v1/goods/{goods_id}/submit", headers=seller)
        assert client.post(f"/api/v1/admin/goods/{goods_id}/approve", headers=reviewer).is_success
        appear.append(_seconds_until(client, word, present=True))
        client.post(f"/api/v1/goods/{goods_id}/withdraw", headers=seller)
        vanish.append(_seconds_until(client, word, present=False))
    print(f"appear max {max(appear):.3f}s, vanish max {max(vanish):.3f}s")
    assert max(appear) < BOUND_SECONDS, appear
    assert max(vanish) < BOUND_SECONDS, vanish
