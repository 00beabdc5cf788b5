"""The contract end to end: register, publish with a photo, review, publicly visible."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.outbox.models import OutboxEvent
from catalog.users.models import Role
from tests.factories import goods_body, leaf_category, login, make_user, png_bytes


def _register(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "long-enough-1", "nickname": "卖家"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_register_publish_review_and_see_it_listed(client: TestClient, session: Session) -> None:
    seller = _register(client, "seller-flow@example.com")
    category = leaf_category(session)
    reviewer = login(client, make_user(session, role=Role.REVIEWER))

    created = client.post("/api/v1/goods", json=goods_body(category.id), headers=seller)
    assert created.status_code == 201, created.text
    goods = created.json()
    assert goods["status"] == "draft"
    assert client.get(f"/api/v1/goods/{goods['id']}").status_code == 404

    photo = client.post(
        f"/api/v1/goods/{goods['id']}/photos",
        files={"file": ("a.png", png_bytes(), "image/png")},
        headers=seller,
    )
    assert photo.status_code == 201, photo.text
    assert client.get(photo.json()["url"]).status_code == 200

    submitted = client.post(f"/api/v1/goods/{goods['id']}/submit", headers=seller)
    assert submitted.json()["status"] == "pending_review"
    assert client.get(f"/api/v1/goods/{goods['id']}").status_code == 404

    queue = client.get("/api/v1/admin/review-queue", headers=reviewer).json()
    assert goods["id"] in [item["id"] for item in queue["items"]]

    approved = client.post(f"/api/v1/admin/goods/{goods['id']}/approve", headers=reviewer)
    assert approved.status_code == 200, approved.text
    public = client.get(f"/api/v1/goods/{goods['id']}")
    assert public.status_code == 200
    assert public.json()["status"] == "listed"
    assert public.json()["photo"] == photo.json()["url"]
    assert public.json()["published_at"] is not None

    outbox = session.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == goods["id"])).all()
    assert [row.reason for row in outbox] == ["approved"]


def test_rejection_reason_reaches_the_seller_who_fixes_and_resubmits(
    client: TestClient, session: Session
) -> None:
    seller_user = make_user(session)
    seller = login(client, seller_user)
    reviewer = login(client, make_user(session, role=Role.REVIEWER))
    category = leaf_category(session)
    goods_id = client.post("/api/v1/goods", json=goods_body(category.id), headers=seller).json()[
        "id"
    ]
    client.post(
        f"/api/v1/goods/{goods_id}/photos",
        files={"file": ("a.png", png_bytes(), "image/png")},
        headers=seller,
    )
    client.post(f"/api/v1/goods/{goods_id}/submit", headers=seller)

    rejected = client.post(
        f"/api/v1/admin/goods/{goods_id}/reject",
        json={"reason": "标题含联系方式"},
        headers=reviewer,
    )
    assert rejected.json()["status"] == "rejected"
    mine = client.get("/api/v1/me/goods", headers=seller).json()
    assert mine["items"][0]["rejection_reason"] == "标题含联系方式"

    client.patch(f"/api/v1/goods/{goods_id}", json={"title": "自用iPhone 13 128G"}, headers=seller)
    again = client.post(f"/api/v1/goods/{goods_id}/submit", headers=seller).json()
    assert again["status"] == "pending_review"
    assert again["rejection_reason"] is None

    trail = client.get(f"/api/v1/admin/goods/{goods_id}/reviews", headers=reviewer).json()
    assert [(d["decision"], d["reason"]) for d in trail["items"]] == [("reject", "标题含联系方式")]


def test_logout_revokes_the_token(client: TestClient) -> None:
    headers = _register(client, "logout@example.com")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["code"] == "bad_token"
