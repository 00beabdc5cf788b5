"""What staff do through /admin: review queue, bulk decisions, verification, users, categories."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from catalog.identity.id_numbers import check_digit
from catalog.users.models import Role
from tests.factories import goods_body, leaf_category, login, make_user, png_bytes

ID_BASE = "11010519491231002"
VALID_ID = ID_BASE + check_digit(ID_BASE)


def _submitted_goods(
    client: TestClient, seller: dict[str, str], category_id: int, title: str
) -> int:
    goods_id: int = client.post(
        "/api/v1/goods", json=goods_body(category_id, title=title), headers=seller
    ).json()["id"]
    client.post(
        f"/api/v1/goods/{goods_id}/photos",
        files={"file": ("p.png", png_bytes(), "image/png")},
        headers=seller,
    )
    assert client.post(f"/api/v1/goods/{goods_id}/submit", headers=seller).status_code == 200
    return goods_id


def test_queue_is_oldest_first_and_filters_by_parent_category(
    client: TestClient, session: Session
) -> None:
    seller = login(client, make_user(session))
    reviewer = login(client, make_user(session, role=Role.REVIEWER))
    phone = leaf_category(session, "iphone")
    laptop = leaf_category(session, "laptops")
    first = _submitted_goods(client, seller, phone.id, "第一件 iPhone")
    second = _submitted_goods(client, seller, laptop.id, "第二件 笔记本")
    third = _submitted_goods(client, seller, phone.id, "第三件 iPhone")

    queue = client.get("/api/v1/admin/review-queue?page_size=100", headers=reviewer).json()
    ours = [item["id"] for item in queue["items"] if item["id"] in {first, second, third}]
    assert ours == [first, second, third]

    assert phone.parent_id is not None
    by_parent = client.get(
        f"/api/v1/admin/review-queue?category_id={phone.parent_id}&page_size=100", headers=reviewer
    ).json()
    ids = {item["id"] for item in by_parent["items"]}
    assert {first, third} <= ids
    assert second not in ids


def test_bulk_approve_reports_each_outcome(client: TestClient, session: Session) -> None:
    seller = login(client, make_user(session))
    reviewer = login(client, make_user(session, role=Role.REVIEWER))
    category = leaf_category(session)
    pending = [_submitted_goods(client, seller, category.id, f"批量 {n}") for n in range(3)]
    draft = client.post("/api/v1/goods", json=goods_body(category.id), headers=seller).json()["id"]

    response = client.post(
        "/api/v1/admin/review/bulk",
        json={"ids": [*pending, draft, 999_999_999], "decision": "approve"},
        headers=reviewer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["succeeded"] == 3
    codes = {item["goods_id"]: item["code"] for item in body["items"] if not item["ok"]}
    assert codes == {draft: "invalid_goods_state", 999_999_999: "goods_not_found"}
    for goods_id in pending:
        assert client.get(f"/api/v1/goods/{goods_id}").json()["status"] == "listed"


def test_bulk_reject_needs_a_reason(client: TestClient, session: Session) -> None:
    reviewer = login(client, make_user(session, role=Role.REVIEWER))
    response = client.post(
        "/api/v1/admin/review/bulk", json={"ids": [1], "decision": "reject"}, headers=reviewer
    )
    assert response.status_code == 422
    assert response.json()["code"] == "reason_required"


def test_verification_is_decided_by_an_operator_and_shown_masked(
    client: TestClient, session: Session
) -> None:
    user = login(client, make_user(session))
    operator = login(client, make_user(session, role=Role.OPERATOR))
    submitted = client.post(
        "/api/v1/me/verification",
        json={"real_name": "张三", "id_number": VALID_ID},
        headers=user,
    )
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["id_number"] == VALID_ID[:3] + "*" * 11 + VALID_ID[-4:]
    again = client.post(
        "/api/v1/me/verification", json={"real_name": "张三", "id_number": VALID_ID}, headers=user
    )
    assert again.json()["code"] == "verification_pending"

    listed = client.get("/api/v1/admin/verifications", headers=operator)
    assert VALID_ID not in listed.text
    verification_id = submitted.json()["id"]
    approved = client.post(
        f"/api/v1/admin/verifications/{verification_id}/approve", headers=operator
    )
    assert approved.json()["status"] == "approved"
    assert client.get("/api/v1/me", headers=user).json()["verified"] is True
    twice = client.post(f"/api/v1/admin/verifications/{verification_id}/approve", headers=operator)
    assert twice.status_code == 409


def test_rejected_verification_shows_the_reason_and_can_be_resubmitted(
    client: TestClient, session: Session
) -> None:
    user = login(client, make_user(session))
    operator = login(client, make_user(session, role=Role.OPERATOR))
    body = {"real_name": "李四", "id_number": VALID_ID}
    verification_id = client.post("/api/v1/me/verification", json=body, headers=user).json()["id"]
    client.post(
        f"/api/v1/admin/verifications/{verification_id}/reject",
        json={"reason": "姓名与证件不符"},
        headers=operator,
    )
    mine = client.get("/api/v1/me/verification", headers=user).json()
    assert (mine["status"], mine["reason"]) == ("rejected", "姓名与证件不符")
    assert client.post("/api/v1/me/verification", json=body, headers=user).status_code == 201


def test_suspending_a_user_logs_them_out_everywhere(client: TestClient, session: Session) -> None:
    target = make_user(session)
    target_headers = login(client, target)
    admin = login(client, make_user(session, role=Role.ADMIN))
    response = client.patch(
        f"/api/v1/admin/users/{target.id}", json={"status": "banned"}, headers=admin
    )
    assert response.json()["status"] == "banned"
    assert client.get("/api/v1/me", headers=target_headers).status_code == 401
    relogin = client.post(
        "/api/v1/auth/login", json={"email": target.email, "password": "correct-horse-9"}
    )
    assert relogin.status_code == 403
    assert relogin.json()["code"] == "account_banned"


def test_admin_grants_a_role_but_not_to_themselves(client: TestClient, session: Session) -> None:
    admin_user = make_user(session, role=Role.ADMIN)
    admin = login(client, admin_user)
    target = make_user(session)
    promoted = client.patch(
        f"/api/v1/admin/users/{target.id}", json={"role": "reviewer"}, headers=admin
    )
    assert promoted.json()["role"] == "reviewer"
    reviewer = login(client, target)
    assert client.get("/api/v1/admin/review-queue", headers=reviewer).status_code == 200
    self_change = client.patch(
        f"/api/v1/admin/users/{admin_user.id}", json={"role": "user"}, headers=admin
    )
    assert self_change.json()["code"] == "cannot_change_self"


def test_admin_adds_and_retires_categories(client: TestClient, session: Session) -> None:
    admin = login(client, make_user(session, role=Role.ADMIN))
    top = client.post(
        "/api/v1/admin/categories", json={"name": "收藏品", "slug": "test-curios"}, headers=admin
    )
    assert top.status_code == 201, top.text
    child = client.post(
        "/api/v1/admin/categories",
        json={"name": "邮票", "slug": "test-stamps", "parent_id": top.json()["id"]},
        headers=admin,
    ).json()
    too_deep = client.post(
        "/api/v1/admin/categories",
        json={"name": "生肖票", "slug": "test-zodiac-stamps", "parent_id": child["id"]},
        headers=admin,
    )
    assert too_deep.json()["code"] == "category_too_deep"
    duplicate = client.post(
        "/api/v1/admin/categories", json={"name": "重复", "slug": "test-stamps"}, headers=admin
    )
    assert duplicate.status_code == 409

    tree = client.get("/api/v1/categories").json()["items"]
    mine = next(node for node in tree if node["slug"] == "test-curios")
    assert [c["name"] for c in mine["children"]] == ["邮票"]

    client.patch(f"/api/v1/admin/categories/{child['id']}", json={"active": False}, headers=admin)
    tree = client.get("/api/v1/categories").json()["items"]
    assert next(node for node in tree if node["slug"] == "test-curios")["children"] == []
    retired_goods = client.post(
        "/api/v1/goods", json=goods_body(child["id"]), headers=login(client, make_user(session))
    )
    assert retired_goods.json()["code"] == "unknown_category"
