"""Who may call what: every route of the API has one access class, and each class holds.

A new route without an entry in ROUTE_ACCESS fails the suite, so nobody ships an endpoint
whose access nobody decided.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.ratelimit import MemoryRateLimiter
from catalog.banners import service as banners
from catalog.db import make_engine
from catalog.identity import service as identity
from catalog.trade import sandbox_gateway
from catalog.users import service as users
from catalog.users.models import Role, User
from tests.factories import PASSWORD, goods_body, leaf_category, make_user, png_bytes

V1 = "/api/v1"

ROUTE_ACCESS: dict[tuple[str, str], str] = {
    ("GET", f"{V1}/healthz"): "public",
    # The web client's shells: static pages; what they show comes from the routes below.
    ("GET", "/"): "public",
    ("GET", "/admin"): "public",
    ("GET", "/admin/"): "public",
    ("POST", f"{V1}/auth/register"): "public",
    ("POST", f"{V1}/auth/login"): "public",
    ("POST", f"{V1}/auth/logout"): "user",
    ("GET", f"{V1}/me"): "user",
    ("GET", f"{V1}/me/goods"): "user",
    ("POST", f"{V1}/me/verification"): "user",
    ("GET", f"{V1}/me/verification"): "user",
    ("GET", f"{V1}/categories"): "public",
    ("POST", f"{V1}/goods"): "user",
    ("GET", f"{V1}/goods/{{goods_id}}"): "public",
    ("PATCH", f"{V1}/goods/{{goods_id}}"): "owner",
    ("POST", f"{V1}/goods/{{goods_id}}/submit"): "owner",
    ("POST", f"{V1}/goods/{{goods_id}}/withdraw"): "owner",
    ("POST", f"{V1}/goods/{{goods_id}}/photos"): "owner",
    ("DELETE", f"{V1}/goods/{{goods_id}}/photos/{{photo_id}}"): "owner",
    ("PUT", f"{V1}/goods/{{goods_id}}/photos/order"): "owner",
    ("GET", f"{V1}/admin/review-queue"): "reviewer",
    ("POST", f"{V1}/admin/goods/{{goods_id}}/approve"): "reviewer",
    ("POST", f"{V1}/admin/goods/{{goods_id}}/reject"): "reviewer",
    ("POST", f"{V1}/admin/review/bulk"): "reviewer",
    ("GET", f"{V1}/admin/goods/{{goods_id}}/reviews"): "reviewer",
    ("GET", f"{V1}/admin/verifications"): "operator",
    ("POST", f"{V1}/admin/verifications/{{verification_id}}/approve"): "operator",
    ("POST", f"{V1}/admin/verifications/{{verification_id}}/reject"): "operator",
    ("GET", f"{V1}/admin/users"): "admin",
    ("PATCH", f"{V1}/admin/users/{{user_id}}"): "admin",
    ("GET", f"{V1}/admin/categories"): "admin",
    ("POST", f"{V1}/admin/categories"): "admin",
    ("PATCH", f"{V1}/admin/categories/{{category_id}}"): "admin",
    ("GET", f"{V1}/search"): "public",
    ("GET", f"{V1}/search/suggest"): "public",
    ("GET", f"{V1}/admin/search/status"): "operator",
    ("POST", f"{V1}/admin/search/reconcile"): "admin",
    ("POST", f"{V1}/admin/search/retry-parked"): "admin",
    ("POST", f"{V1}/events"): "public",
    ("GET", f"{V1}/feed/home"): "public",
    ("GET", f"{V1}/feed/for-you"): "public",
    ("GET", f"{V1}/goods/{{goods_id}}/similar"): "public",
    ("GET", f"{V1}/admin/banners"): "admin",
    ("POST", f"{V1}/admin/banners"): "admin",
    ("PUT", f"{V1}/admin/banners/{{banner_id}}"): "admin",
    ("DELETE", f"{V1}/admin/banners/{{banner_id}}"): "admin",
    ("GET", f"{V1}/admin/ranking/configs"): "admin",
    ("POST", f"{V1}/admin/ranking/configs"): "admin",
    ("POST", f"{V1}/orders"): "user",
    ("GET", f"{V1}/orders"): "user",
    ("GET", f"{V1}/orders/{{order_id}}"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/pay"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/cancel"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/video"): "party",
    ("GET", f"{V1}/orders/{{order_id}}/video"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/confirm-video"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/ship"): "party",
    ("GET", f"{V1}/orders/{{order_id}}/tracking"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/mark-complete"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/confirm-receipt"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/dispute"): "party",
    ("POST", f"{V1}/orders/{{order_id}}/rating"): "party",
    ("POST", f"{V1}/payments/sandbox/{{ref}}/pay"): "public",
    ("POST", f"{V1}/payments/sandbox/notify"): "public",
    ("GET", f"{V1}/wallet"): "user",
    ("GET", f"{V1}/wallet/payout-accounts"): "user",
    ("POST", f"{V1}/wallet/payout-accounts"): "user",
    ("DELETE", f"{V1}/wallet/payout-accounts/{{account_id}}"): "user",
    ("POST", f"{V1}/withdrawals"): "user",
    ("GET", f"{V1}/withdrawals"): "user",
    ("GET", f"{V1}/admin/orders"): "operator",
    ("GET", f"{V1}/admin/disputes"): "operator",
    ("POST", f"{V1}/admin/orders/{{order_id}}/resolve-dispute"): "operator",
    ("GET", f"{V1}/admin/withdrawals"): "operator",
    ("POST", f"{V1}/admin/withdrawals/{{withdrawal_id}}/pay"): "operator",
    ("POST", f"{V1}/admin/withdrawals/{{withdrawal_id}}/reject"): "operator",
    ("GET", f"{V1}/admin/trade/health"): "operator",
    ("GET", f"{V1}/admin/commission"): "admin",
    ("PUT", f"{V1}/admin/commission"): "admin",
    ("POST", f"{V1}/goods/{{goods_id}}/conversations"): "user",
    ("GET", f"{V1}/conversations"): "user",
    ("GET", f"{V1}/conversations/{{conversation_id}}/messages"): "user",
    ("POST", f"{V1}/conversations/{{conversation_id}}/messages"): "user",
    ("GET", f"{V1}/conversations/{{conversation_id}}/offers"): "user",
    ("POST", f"{V1}/conversations/{{conversation_id}}/offers"): "user",
    ("POST", f"{V1}/offers/{{offer_id}}/accept"): "user",
    ("POST", f"{V1}/offers/{{offer_id}}/reject"): "user",
    ("POST", f"{V1}/offers/{{offer_id}}/counter"): "user",
    ("POST", f"{V1}/offers/{{offer_id}}/withdraw"): "user",
    ("PUT", f"{V1}/goods/{{goods_id}}/bargaining"): "owner",
    ("GET", f"{V1}/notifications"): "user",
    ("POST", f"{V1}/notifications/read"): "user",
}

# "party": the buyer or the seller of the order (and operators); anyone else is told the
# order does not exist.
ACCESS_CLASSES = ("public", "user", "owner", "party", "reviewer", "operator", "admin")
# The least privileged role each staff class admits, and every role below it.
LOWEST_ROLE = {"reviewer": Role.REVIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}
ROLE_ORDER = (Role.USER, Role.REVIEWER, Role.OPERATOR, Role.ADMIN)

# Valid by the check-digit rule (GB 11643-1999): 11010519491231002 + X.
VALID_ID_NUMBER = "11010519491231002X"


def entries(*classes: str) -> list[Any]:
    return [
        pytest.param(method, path, id=f"{method} {path}")
        for (method, path), access in ROUTE_ACCESS.items()
        if access in classes
    ]


def api_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every APIRoute, including those of included routers."""
    # Newer FastAPI keeps included routers nested in app.routes (iter_route_contexts walks
    # them, as the OpenAPI generator does); older versions flattened them into app.routes.
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    candidates: list[Any] = list(iter_contexts(app.routes) if iter_contexts else app.routes)
    for candidate in candidates:
        route = getattr(candidate, "original_route", candidate)
        if isinstance(route, APIRoute):
            for method in candidate.methods or ():
                if method not in ("HEAD", "OPTIONS"):
                    yield method, candidate.path


def test_every_route_has_exactly_one_access_class() -> None:
    app = create_app(engine=make_engine("sqlite://"), rate_limiter=MemoryRateLimiter())
    routes = set(api_routes(app))

    missing = sorted(routes - ROUTE_ACCESS.keys())
    stale = sorted(ROUTE_ACCESS.keys() - routes)
    assert not missing, (
        f"routes without an entry in ROUTE_ACCESS (decide who may call them): {missing}"
    )
    assert not stale, f"ROUTE_ACCESS entries for routes that no longer exist: {stale}"
    unknown = {key: value for key, value in ROUTE_ACCESS.items() if value not in ACCESS_CLASSES}
    assert not unknown, f"unknown access classes: {unknown}"


# A small world of real rows, created on first use so each test builds only what it needs.


def bearer(session: Session, user: User) -> dict[str, str]:
    """A live session for `user`, opened by the same service the login route uses."""
    issued = users.open_session(session, user=user)
    session.flush()
    return {"Authorization": f"Bearer {issued.token}"}


@dataclass
class World:
    client: TestClient
    session: Session
    _headers: dict[object, dict[str, str]] = field(default_factory=dict)

    def headers(self, who: Role | User) -> dict[str, str]:
        if who not in self._headers:
            user = who if isinstance(who, User) else make_user(self.session, role=who)
            self._headers[who] = bearer(self.session, user)
        return self._headers[who]

    @cached_property
    def seller(self) -> User:
        return make_user(self.session, nickname="卖家")

    @cached_property
    def other_user(self) -> User:
        return make_user(self.session, nickname="路人")

    @cached_property
    def category_id(self) -> int:
        return leaf_category(self.session).id

    def _goods_with_photo(self, title: str) -> dict[str, Any]:
        seller = self.headers(self.seller)
        created = self.client.post(
            f"{V1}/goods", json=goods_body(self.category_id, title=title), headers=seller
        )
        assert created.status_code == 201, created.text
        goods_id = created.json()["id"]
        photo = self.client.post(
            f"{V1}/goods/{goods_id}/photos",
            files={"file": ("a.png", png_bytes(), "image/png")},
            headers=seller,
        )
        assert photo.status_code == 201, photo.text
        return self.seller_view(goods_id)

    @cached_property
    def draft(self) -> dict[str, Any]:
        return self._goods_with_photo("草稿中的自行车")

    @cached_property
    def listed(self) -> dict[str, Any]:
        goods = self._goods_with_photo("已上架的自行车")
        submitted = self.client.post(
            f"{V1}/goods/{goods['id']}/submit", headers=self.headers(self.seller)
        )
        assert submitted.status_code == 200, submitted.text
        approved = self.client.post(
            f"{V1}/admin/goods/{goods['id']}/approve", headers=self.headers(Role.REVIEWER)
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "listed"
        return self.seller_view(goods["id"])

    @cached_property
    def banner_id(self) -> int:
        banner = banners.save_banner(
            self.session,
            banner_id=None,
            title="双十一",
            image="/media/banner.jpg",
            link="/search?q=手机",
            position=0,
            starts_at=None,
            ends_at=None,
            active=True,
        )
        return banner.id

    @cached_property
    def verification_id(self) -> int:
        applicant = make_user(self.session, nickname="申请人")
        verification = identity.submit_verification(
            self.session, user=applicant, real_name="张三", id_number=VALID_ID_NUMBER
        )
        self.session.flush()
        return verification.id

    @cached_property
    def buyer(self) -> User:
        return make_user(self.session, nickname="买家")

    @cached_property
    def order(self) -> dict[str, Any]:
        """An unpaid order of `buyer` on the listed goods."""
        placed = self.client.post(
            f"{V1}/orders", json={"goods_id": self.listed["id"]}, headers=self.headers(self.buyer)
        )
        assert placed.status_code == 201, placed.text
        body: dict[str, Any] = placed.json()
        return body

    @cached_property
    def payment(self) -> dict[str, Any]:
        started = self.client.post(
            f"{V1}/orders/{self.order['id']}/pay", headers=self.headers(self.buyer)
        )
        assert started.status_code == 200, started.text
        body: dict[str, Any] = started.json()
        return body

    def seller_view(self, goods_id: int) -> dict[str, Any]:
        response = self.client.get(f"{V1}/goods/{goods_id}", headers=self.headers(self.seller))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def request(
    world: World, method: str, path: str, headers: dict[str, str], *, goods: str = "draft"
) -> Any:
    """Send `method path` with its path parameters and a plausible body filled from `world`."""
    params: dict[str, object] = {}
    target: dict[str, Any] | None = None
    if "{goods_id}" in path:
        target = getattr(world, goods)
        params["goods_id"] = target["id"]
    if "{photo_id}" in path:
        assert target is not None
        params["photo_id"] = target["photos"][0]["id"]
    if "{verification_id}" in path:
        params["verification_id"] = world.verification_id
    if "{user_id}" in path:
        params["user_id"] = world.other_user.id
    if "{category_id}" in path:
        params["category_id"] = world.category_id
    if "{banner_id}" in path:
        params["banner_id"] = world.banner_id
    if "{order_id}" in path:
        params["order_id"] = world.order["id"]
    if "{ref}" in path:
        params["ref"] = world.payment["pay_url"].split("/")[-2]
    for name in ("account_id", "withdrawal_id", "conversation_id", "offer_id"):
        if f"{{{name}}}" in path:
            params[name] = 1
    url = path.format(**params)

    kwargs: dict[str, Any] = {}
    key = (method, path)
    if key == ("POST", f"{V1}/auth/register"):
        kwargs["json"] = {"email": "newcomer@example.com", "password": "long-enough-1"}
    elif key == ("POST", f"{V1}/auth/login"):
        kwargs["json"] = {"email": "nobody@example.com", "password": "whatever-123"}
    elif key == ("POST", f"{V1}/me/verification"):
        kwargs["json"] = {"real_name": "李四", "id_number": VALID_ID_NUMBER}
    elif key == ("POST", f"{V1}/goods"):
        kwargs["json"] = goods_body(world.category_id)
    elif key == ("PATCH", f"{V1}/goods/{{goods_id}}"):
        kwargs["json"] = {"title": "别人改过的标题", "price": 1}
    elif key == ("POST", f"{V1}/goods/{{goods_id}}/photos"):
        kwargs["files"] = {"file": ("b.png", png_bytes(color="blue"), "image/png")}
    elif key == ("PUT", f"{V1}/goods/{{goods_id}}/photos/order"):
        assert target is not None
        kwargs["json"] = {"photo_ids": [photo["id"] for photo in reversed(target["photos"])]}
    elif key in (
        ("POST", f"{V1}/admin/goods/{{goods_id}}/reject"),
        ("POST", f"{V1}/admin/verifications/{{verification_id}}/reject"),
    ):
        kwargs["json"] = {"reason": "信息不全"}
    elif key == ("POST", f"{V1}/admin/review/bulk"):
        kwargs["json"] = {"ids": [world.draft["id"]], "decision": "approve"}
    elif key == ("PATCH", f"{V1}/admin/users/{{user_id}}"):
        kwargs["json"] = {"role": "reviewer"}
    elif key == ("POST", f"{V1}/admin/categories"):
        kwargs["json"] = {"name": "测试分类", "slug": "matrix-test"}
    elif key == ("PATCH", f"{V1}/admin/categories/{{category_id}}"):
        kwargs["json"] = {"name": "改名的分类"}
    elif key in (("POST", f"{V1}/admin/banners"), ("PUT", f"{V1}/admin/banners/{{banner_id}}")):
        kwargs["json"] = {"title": "开学季", "image": "/media/b.jpg", "link": "/feed/home"}
    elif key == ("POST", f"{V1}/admin/ranking/configs"):
        kwargs["json"] = {"params": {"half_life_hours": 12}, "note": "矩阵测试"}
    elif key == ("POST", f"{V1}/orders"):
        kwargs["json"] = {"goods_id": world.listed["id"]}
    elif key == ("POST", f"{V1}/payments/sandbox/notify"):
        body = json.dumps(
            {
                "ref": world.payment["pay_url"].split("/")[-2],
                "amount": world.payment["amount"],
                "status": "paid",
                "paid_at": "2026-11-23T08:00:00+00:00",
            }
        ).encode()
        kwargs["content"] = body
        kwargs["headers"] = {
            **headers,
            sandbox_gateway.SIGNATURE_HEADER: sandbox_gateway.sign(body),
        }
        return world.client.request(method, url, **kwargs)
    elif key == ("POST", f"{V1}/orders/{{order_id}}/cancel"):
        kwargs["json"] = {"reason": "不想要了"}
    elif key == ("POST", f"{V1}/orders/{{order_id}}/video"):
        kwargs["files"] = {"file": ("v.mp4", b"not a video", "video/mp4")}
    elif key == ("POST", f"{V1}/orders/{{order_id}}/ship"):
        kwargs["json"] = {"carrier": "SF", "tracking_number": "SF1234567890"}
    elif key == ("POST", f"{V1}/orders/{{order_id}}/dispute"):
        kwargs["json"] = {"reason": "与描述不符"}
    elif key == ("POST", f"{V1}/orders/{{order_id}}/rating"):
        kwargs["json"] = {"score": 5, "comment": "好"}
    elif key == ("POST", f"{V1}/admin/orders/{{order_id}}/resolve-dispute"):
        kwargs["json"] = {"outcome": "release"}
    elif key == ("POST", f"{V1}/admin/withdrawals/{{withdrawal_id}}/pay"):
        kwargs["json"] = {"transfer_reference": "TX-1"}
    elif key == ("POST", f"{V1}/admin/withdrawals/{{withdrawal_id}}/reject"):
        kwargs["json"] = {"reason": "账户不符"}
    elif key == ("PUT", f"{V1}/goods/{{goods_id}}/bargaining"):
        kwargs["json"] = {"no_bargaining": False, "floor_price": 1}
    elif key in (("POST", f"{V1}/conversations/{{conversation_id}}/messages"),):
        kwargs["json"] = {"text": "你好"}
    elif key in (
        ("POST", f"{V1}/conversations/{{conversation_id}}/offers"),
        ("POST", f"{V1}/offers/{{offer_id}}/counter"),
    ):
        kwargs["json"] = {"price": 100}
    elif key == ("POST", f"{V1}/notifications/read"):
        kwargs["json"] = {}
    elif key == ("PUT", f"{V1}/admin/commission"):
        kwargs["json"] = {"rate_bp": 80}
    elif key == ("POST", f"{V1}/wallet/payout-accounts"):
        kwargs["json"] = {"kind": "alipay", "holder_name": "张三", "number": "13800138000"}
    elif key == ("POST", f"{V1}/withdrawals"):
        kwargs["json"] = {"payout_account_id": 1, "amount": 100_00}
    elif key == ("POST", f"{V1}/events"):
        kwargs["json"] = {"events": [{"type": "click", "goods_id": 1, "device_id": "dev-1"}]}
    return world.client.request(method, url, headers=headers, **kwargs)


@pytest.fixture
def world(client: TestClient, session: Session) -> World:
    return World(client, session)


@pytest.mark.parametrize(
    ("method", "path"), entries("user", "owner", "reviewer", "operator", "admin")
)
def test_non_public_routes_refuse_anonymous_and_forged_tokens(
    client: TestClient, method: str, path: str
) -> None:
    # Authentication comes before any lookup, so the ids need not exist.
    url = path.format(
        goods_id=1,
        photo_id=1,
        verification_id=1,
        user_id=1,
        category_id=1,
        banner_id=1,
        order_id=1,
        account_id=1,
        withdrawal_id=1,
        conversation_id=1,
        offer_id=1,
    )

    anonymous = client.request(method, url)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["code"] in ("not_authenticated",)

    forged = client.request(method, url, headers={"Authorization": "Bearer not-a-real-token"})
    assert forged.status_code == 401, forged.text
    assert forged.json()["code"] in ("bad_token", "not_authenticated")


@pytest.mark.parametrize(("method", "path"), entries("public"))
def test_public_routes_answer_anonymous_visitors(world: World, method: str, path: str) -> None:
    if path == f"{V1}/auth/login":
        # An unknown login is a 401 by design; a real one must get in without a token.
        user = make_user(world.session)
        response = world.client.post(path, json={"email": user.email, "password": PASSWORD})
    else:
        response = request(world, method, path, {}, goods="listed")
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(("method", "path"), entries("reviewer", "operator", "admin"))
def test_staff_routes_admit_only_roles_with_the_permission(
    world: World, method: str, path: str
) -> None:
    lowest = LOWEST_ROLE[ROUTE_ACCESS[(method, path)]]
    below = ROLE_ORDER[: ROLE_ORDER.index(lowest)]

    for role in below:
        denied = request(world, method, path, world.headers(role))
        assert denied.status_code == 403, f"{role} got {denied.status_code}: {denied.text}"
        assert denied.json()["code"] == "permission_denied"

    allowed = request(world, method, path, world.headers(lowest))
    assert allowed.status_code not in (401, 403), f"{lowest} was refused: {allowed.text}"


def _snapshot(goods: dict[str, Any]) -> tuple[object, ...]:
    return goods["status"], goods["title"], goods["price"], goods["version"], len(goods["photos"])


@pytest.mark.parametrize(("method", "path"), entries("owner"))
def test_owner_routes_refuse_other_users_and_leave_the_goods_alone(
    world: World, method: str, path: str
) -> None:
    intruder = world.headers(world.other_user)
    for goods, status, code in (
        ("draft", 404, "goods_not_found"),
        ("listed", 403, "not_goods_owner"),
    ):
        before = getattr(world, goods)

        response = request(world, method, path, intruder, goods=goods)

        assert (response.status_code, response.json()["code"]) == (status, code), response.text
        after = world.seller_view(before["id"])
        assert _snapshot(after) == _snapshot(before)
        assert after["photos"] == before["photos"]

    # The same request from the seller goes through, so the refusal was about ownership.
    own = request(world, method, path, world.headers(world.seller), goods="draft")
    assert own.status_code in (200, 201, 204), own.text


def test_goods_under_review_or_rejected_are_seen_only_by_seller_and_staff(world: World) -> None:
    goods = world.draft
    url = f"{V1}/goods/{goods['id']}"
    seller = world.headers(world.seller)
    reviewer = world.headers(Role.REVIEWER)

    def visible_to() -> dict[str, int]:
        return {
            "public": world.client.get(url).status_code,
            "other user": world.client.get(
                url, headers=world.headers(world.other_user)
            ).status_code,
            "seller": world.client.get(url, headers=seller).status_code,
            "reviewer": world.client.get(url, headers=reviewer).status_code,
        }

    hidden = {"public": 404, "other user": 404, "seller": 200, "reviewer": 200}
    assert visible_to() == hidden  # draft

    submitted = world.client.post(f"{url}/submit", headers=seller)
    assert submitted.json()["status"] == "pending_review"
    assert visible_to() == hidden

    rejected = world.client.post(
        f"{V1}/admin/goods/{goods['id']}/reject", json={"reason": "图片不清晰"}, headers=reviewer
    )
    assert rejected.json()["status"] == "rejected"
    assert visible_to() == hidden
    assert world.client.get(url).json()["code"] == "goods_not_found"
    # Nothing about hidden goods leaks through the refusal.
    assert goods["title"] not in world.client.get(url).text

    assert world.client.get(f"{V1}/goods/{world.listed['id']}").status_code == 200


@pytest.mark.parametrize(("method", "path"), entries("party"))
def test_order_routes_refuse_strangers_and_leave_the_order_alone(
    world: World, method: str, path: str
) -> None:
    before = world.client.get(
        f"{V1}/orders/{world.order['id']}", headers=world.headers(world.buyer)
    ).json()
    stranger = world.headers(world.other_user)

    response = request(world, method, path, stranger)

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
    after = world.client.get(
        f"{V1}/orders/{world.order['id']}", headers=world.headers(world.buyer)
    ).json()
    assert (after["status"], after["timeline"]) == (before["status"], before["timeline"])
    # The seller and an operator may see it; a reviewer may not.
    seller_view = world.client.get(
        f"{V1}/orders/{world.order['id']}", headers=world.headers(world.seller)
    )
    assert seller_view.json()["your_role"] == "seller"
    operator_view = world.client.get(
        f"{V1}/orders/{world.order['id']}", headers=world.headers(Role.OPERATOR)
    )
    assert operator_view.json()["your_role"] == "operator"
    reviewer_view = world.client.get(
        f"{V1}/orders/{world.order['id']}", headers=world.headers(Role.REVIEWER)
    )
    assert reviewer_view.status_code == 404
