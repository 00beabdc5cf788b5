"""Bad input is refused with a clear error, and nothing is half-written."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.goods.models import Goods, GoodsPhoto
from catalog.identity.models import RealNameVerification
from catalog.money import MAX_LISTING_PRICE
from catalog.settings import get_settings
from catalog.users import service as users
from catalog.users.models import Role, User
from tests.factories import PASSWORD, goods_body, leaf_category, make_user, png_bytes

V1 = "/api/v1"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


# Helpers


def bearer(session: Session, user: User) -> dict[str, str]:
    """A live session for `user`, opened by the same service the login route uses."""
    issued = users.open_session(session, user=user)
    session.flush()
    return {"Authorization": f"Bearer {issued.token}"}


def count(session: Session, model: type[Any], *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def field_names(response: Any) -> list[str]:
    return [item["field"] for item in response.json()["fields"]]


def assert_validation_error(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in field_names(response), body
    assert field in body["message"]


def media_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload(
    client: TestClient,
    goods_id: int,
    data: bytes,
    headers: dict[str, str],
    *,
    name: str = "photo.png",
    content_type: str = "image/png",
) -> Any:
    return client.post(
        f"{V1}/goods/{goods_id}/photos",
        files={"file": (name, data, content_type)},
        headers=headers,
    )


def with_check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK_CHARS[total % 11]


def png_claiming(*, width: int, height: int) -> bytes:
    """A valid PNG header claiming `width` x `height` 8-bit grey, with a token IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def noise_png(side: int) -> bytes:
    """A real photo-like PNG that does not compress: about 3 bytes per pixel."""
    buffer = io.BytesIO()
    Image.effect_noise((side, side), 60).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


class Seller:
    """A logged-in seller and their goods, created through the API."""

    def __init__(self, client: TestClient, session: Session, *, role: Role = Role.USER) -> None:
        self.client = client
        self.session = session
        self.user = make_user(session, role=role)
        self.headers = bearer(session, self.user)
        self.category_id = leaf_category(session).id

    def create(self, **overrides: object) -> dict[str, Any]:
        response = self.client.post(
            f"{V1}/goods", json=goods_body(self.category_id, **overrides), headers=self.headers
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def with_photo(self) -> dict[str, Any]:
        goods = self.create()
        assert upload(self.client, goods["id"], png_bytes(), self.headers).status_code == 201
        return self.view(goods["id"])

    def submitted(self) -> dict[str, Any]:
        goods = self.with_photo()
        response = self.client.post(f"{V1}/goods/{goods['id']}/submit", headers=self.headers)
        assert response.json()["status"] == "pending_review", response.text
        return self.view(goods["id"])

    def view(self, goods_id: int) -> dict[str, Any]:
        response = self.client.get(f"{V1}/goods/{goods_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def goods_count(self) -> int:
        return count(self.session, Goods, Goods.seller_id == self.user.id)


@pytest.fixture
def seller(client: TestClient, session: Session) -> Seller:
    return Seller(client, session)


# Creating and editing goods


@pytest.mark.parametrize("missing", ["category_id", "title", "price", "condition", "city"])
def test_create_without_a_required_field_names_it(seller: Seller, missing: str) -> None:
    body = goods_body(seller.category_id)
    del body[missing]

    response = seller.client.post(f"{V1}/goods", json=body, headers=seller.headers)

    assert_validation_error(response, missing)
    assert seller.goods_count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "cheap"),
        ("price", 99.5),
        ("price", [100]),
        ("category_id", "phones"),
        ("title", 12345),
        ("condition", 95),
        ("city", {"name": "上海"}),
        ("original_price", "a lot"),
        ("price", True),
        ("original_price", True),
        ("category_id", True),
    ],
)
def test_create_with_a_wrong_type_names_the_field(
    seller: Seller, field: str, value: object
) -> None:
    body = {**goods_body(seller.category_id), field: value}

    response = seller.client.post(f"{V1}/goods", json=body, headers=seller.headers)

    assert_validation_error(response, field)
    assert seller.goods_count() == 0


@pytest.mark.parametrize(
    ("field", "amount"),
    [
        ("price", 0),
        ("price", -100),
        ("price", MAX_LISTING_PRICE + 1),
        ("price", 10**18),
        ("original_price", 0),
        ("original_price", MAX_LISTING_PRICE + 1),
    ],
)
def test_create_with_an_impossible_price_names_it(seller: Seller, field: str, amount: int) -> None:
    response = seller.client.post(
        f"{V1}/goods",
        json=goods_body(seller.category_id, **{field: amount}),
        headers=seller.headers,
    )

    assert_validation_error(response, field)
    assert seller.goods_count() == 0


def test_the_largest_price_and_longest_title_are_still_accepted(seller: Seller) -> None:
    goods = seller.create(price=MAX_LISTING_PRICE, title="好" * 60)

    assert goods["price"] == MAX_LISTING_PRICE
    assert goods["title"] == "好" * 60


@pytest.mark.parametrize(
    ("title", "reason"),
    [("好" * 61, "61 characters"), ("      ", "only spaces"), ("好", "one character")],
)
def test_create_with_a_bad_title_names_it(seller: Seller, title: str, reason: str) -> None:
    response = seller.client.post(
        f"{V1}/goods", json=goods_body(seller.category_id, title=title), headers=seller.headers
    )

    assert_validation_error(response, "title")
    assert seller.goods_count() == 0, reason


def test_create_with_an_unknown_condition_names_it(seller: Seller) -> None:
    response = seller.client.post(
        f"{V1}/goods",
        json=goods_body(seller.category_id, condition="十成新"),
        headers=seller.headers,
    )

    assert_validation_error(response, "condition")
    assert seller.goods_count() == 0


def test_create_in_an_unknown_category_is_refused(seller: Seller) -> None:
    response = seller.client.post(
        f"{V1}/goods", json=goods_body(987_654_321), headers=seller.headers
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unknown_category"
    assert response.json()["field"] == "category_id"
    assert seller.goods_count() == 0


def test_create_in_a_retired_category_is_refused(seller: Seller, session: Session) -> None:
    category = leaf_category(session)
    category.active = False
    session.flush()

    response = seller.client.post(
        f"{V1}/goods", json=goods_body(category.id), headers=seller.headers
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unknown_category"
    assert seller.goods_count() == 0


@pytest.mark.parametrize(
    ("field", "value"), [("status", "listed"), ("seller_id", 1), ("version", 99), ("id", 5)]
)
def test_create_refuses_fields_the_seller_does_not_own(
    seller: Seller, field: str, value: object
) -> None:
    response = seller.client.post(
        f"{V1}/goods", json=goods_body(seller.category_id, **{field: value}), headers=seller.headers
    )

    assert_validation_error(response, field)
    assert response.json()["fields"][0]["type"] == "extra_forbidden"
    assert seller.goods_count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "listed"}, "status"),
        ({"title": "被偷偷改掉的标题", "seller_id": 1}, "seller_id"),
        ({"price": 1, "version": 99}, "version"),
        ({"title": "新标题也不该写入", "price": 0}, "price"),
        ({"title": "  "}, "title"),
        ({"condition": "十成新"}, "condition"),
    ],
)
def test_a_refused_edit_changes_nothing(
    seller: Seller, change: dict[str, object], field: str
) -> None:
    before = seller.with_photo()

    response = seller.client.patch(
        f"{V1}/goods/{before['id']}", json=change, headers=seller.headers
    )

    assert_validation_error(response, field)
    after = seller.view(before["id"])
    assert after == before


def test_an_edit_into_an_unknown_category_changes_nothing(seller: Seller) -> None:
    before = seller.with_photo()

    response = seller.client.patch(
        f"{V1}/goods/{before['id']}",
        json={"title": "换个分类", "category_id": 987_654_321},
        headers=seller.headers,
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unknown_category"
    assert seller.view(before["id"]) == before


# Accounts


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "both@example.com", "phone": "13800138000", "password": "long-enough-1"}, None),
        ({"password": "long-enough-1"}, None),
        ({"phone": "12800138000", "password": "long-enough-1"}, "phone"),
        ({"phone": "1380013800", "password": "long-enough-1"}, "phone"),
        ({"phone": "+8613800138000", "password": "long-enough-1"}, "phone"),
        ({"email": "not-an-email", "password": "long-enough-1"}, "email"),
        ({"email": "short@example.com", "password": "short7!"}, "password"),
        ({"email": "nopass@example.com"}, "password"),
        ({"email": "boss@example.com", "password": "long-enough-1", "role": "admin"}, "role"),
        ({"email": "v@example.com", "password": "long-enough-1", "verified": True}, "verified"),
    ],
)
def test_register_with_bad_input_creates_no_account(
    client: TestClient, session: Session, body: dict[str, str], field: str | None
) -> None:
    users_before = count(session, User)

    response = client.post(f"{V1}/auth/register", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    if field is not None:
        assert field in field_names(response)
    assert "token" not in response.json()
    assert count(session, User) == users_before


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "dup@example.com"}, {"email": "dup@example.com"}),
        ({"email": "dup@example.com"}, {"email": "Dup@Example.COM"}),
        ({"phone": "13800138000"}, {"phone": "13800138000"}),
    ],
)
def test_register_an_existing_login_again_is_refused(
    client: TestClient, session: Session, first: dict[str, str], second: dict[str, str]
) -> None:
    created = client.post(f"{V1}/auth/register", json={**first, "password": "first-password-1"})
    assert created.status_code == 201, created.text
    users_before = count(session, User)

    again = client.post(f"{V1}/auth/register", json={**second, "password": "other-password-2"})

    assert again.status_code == 409, again.text
    assert again.json()["code"] == "login_taken"
    assert count(session, User) == users_before
    # The account still belongs to whoever registered it first.
    assert (
        client.post(f"{V1}/auth/login", json={**first, "password": "first-password-1"}).status_code
        == 200
    )


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, email="known@example.com")

    wrong = client.post(f"{V1}/auth/login", json={"email": user.email, "password": "not-it-123"})
    unknown = client.post(
        f"{V1}/auth/login", json={"email": "unknown@example.com", "password": PASSWORD}
    )

    assert (wrong.status_code, wrong.json()["code"]) == (401, "bad_credentials")
    assert (unknown.status_code, unknown.json()["code"]) == (401, "bad_credentials")
    assert wrong.json()["message"] == unknown.json()["message"]
    assert "token" not in wrong.json()


# Photos


def test_refused_uploads_leave_no_photo_and_no_file(
    seller: Seller, session: Session, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    goods = seller.with_photo()
    files_before = media_files(media_root)
    assert len(files_before) == 2  # the photo and its thumbnail
    monkeypatch.setattr(get_settings(), "photo_max_bytes", 50_000)

    refusals: list[tuple[str, bytes, str, int, str]] = [
        (
            "notes.jpg",
            b"just some text, not a photo\n" * 20,
            "image/jpeg",
            415,
            "photo_type_unsupported",
        ),
        ("fake.png", b"%PDF-1.7\n" + b"0" * 500, "image/png", 415, "photo_type_unsupported"),
        ("a bit big.png", noise_png(140), "image/png", 413, "photo_too_large"),
        ("far too big.png", noise_png(300), "image/png", 413, "photo_too_large"),
        ("empty.png", b"", "image/png", 422, "photo_empty"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image/png", 422, "photo_corrupt"),
    ]
    for name, data, content_type, status, code in refusals:
        response = upload(
            seller.client, goods["id"], data, seller.headers, name=name, content_type=content_type
        )

        assert (response.status_code, response.json()["code"]) == (status, code), name
        assert count(session, GoodsPhoto, GoodsPhoto.goods_id == goods["id"]) == 1, name
        assert media_files(media_root) == files_before, name
    assert seller.view(goods["id"]) == goods


def test_decompression_bomb_is_refused_quickly_without_a_trace(
    seller: Seller, session: Session, media_root: Path
) -> None:
    goods = seller.with_photo()
    files_before = media_files(media_root)
    bomb = png_claiming(width=50_000, height=50_000)
    assert len(bomb) < 2_000

    started = time.perf_counter()
    response = upload(seller.client, goods["id"], bomb, seller.headers, name="huge.png")
    elapsed = time.perf_counter() - started

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "photo_too_many_pixels"
    assert elapsed < 1.0
    assert count(session, GoodsPhoto, GoodsPhoto.goods_id == goods["id"]) == 1
    assert media_files(media_root) == files_before


def test_a_tenth_photo_is_refused(seller: Seller, session: Session, media_root: Path) -> None:
    goods = seller.create()
    small = png_bytes(width=8, height=8)
    for _ in range(get_settings().goods_max_photos):
        assert upload(seller.client, goods["id"], small, seller.headers).status_code == 201
    before = seller.view(goods["id"])
    files_before = media_files(media_root)
    assert len(before["photos"]) == 9

    response = upload(seller.client, goods["id"], small, seller.headers)

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "too_many_photos"
    assert count(session, GoodsPhoto, GoodsPhoto.goods_id == goods["id"]) == 9
    assert media_files(media_root) == files_before
    assert seller.view(goods["id"]) == before


# Submitting and reviewing


def test_submit_without_a_photo_is_refused_and_stays_a_draft(seller: Seller) -> None:
    goods = seller.create()

    response = seller.client.post(f"{V1}/goods/{goods['id']}/submit", headers=seller.headers)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "photo_required"
    after = seller.view(goods["id"])
    assert after["status"] == "draft"
    assert after["submitted_at"] is None
    assert after == goods


def test_approving_a_draft_is_refused(seller: Seller, session: Session) -> None:
    goods = seller.with_photo()
    reviewer = bearer(session, make_user(session, role=Role.REVIEWER))

    response = seller.client.post(f"{V1}/admin/goods/{goods['id']}/approve", headers=reviewer)

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "invalid_goods_state"
    assert seller.view(goods["id"]) == goods
    assert seller.client.get(f"{V1}/goods/{goods['id']}").status_code == 404


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "   "}])
def test_rejecting_without_a_reason_is_refused(
    seller: Seller, session: Session, body: dict[str, str] | None
) -> None:
    goods = seller.submitted()
    reviewer = bearer(session, make_user(session, role=Role.REVIEWER))

    response = seller.client.post(
        f"{V1}/admin/goods/{goods['id']}/reject", json=body, headers=reviewer
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("validation_error", "reason_required")
    after = seller.view(goods["id"])
    assert after["status"] == "pending_review"
    assert after == goods
    trail = seller.client.get(f"{V1}/admin/goods/{goods['id']}/reviews", headers=reviewer)
    assert trail.json()["items"] == []


def test_a_reviewer_cannot_approve_their_own_goods(client: TestClient, session: Session) -> None:
    reviewer = Seller(client, session, role=Role.REVIEWER)
    goods = reviewer.submitted()

    response = client.post(f"{V1}/admin/goods/{goods['id']}/approve", headers=reviewer.headers)

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "own_goods"
    assert reviewer.view(goods["id"])["status"] == "pending_review"
    assert client.get(f"{V1}/goods/{goods['id']}").status_code == 404


def test_goods_without_a_photo_never_become_public(seller: Seller, session: Session) -> None:
    goods = seller.submitted()
    reviewer = bearer(session, make_user(session, role=Role.REVIEWER))
    approve = f"{V1}/admin/goods/{goods['id']}/approve"
    assert seller.client.post(approve, headers=reviewer).json()["status"] == "listed"

    seller.client.delete(
        f"{V1}/goods/{goods['id']}/photos/{goods['photos'][0]['id']}", headers=seller.headers
    )
    seller.client.post(approve, headers=reviewer)

    public = seller.client.get(f"{V1}/goods/{goods['id']}")
    assert public.status_code == 404 or public.json()["photo"] is not None, public.text


# Real-name verification


def test_an_id_number_with_a_bad_check_digit_is_refused(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    headers = bearer(session, user)
    valid = with_check_digit("11010519491231002")
    wrong_digit = "0" if valid[-1] != "0" else "1"

    response = client.post(
        f"{V1}/me/verification",
        json={"real_name": "张三", "id_number": valid[:17] + wrong_digit},
        headers=headers,
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_id_number"
    assert count(session, RealNameVerification, RealNameVerification.user_id == user.id) == 0
    assert client.get(f"{V1}/me/verification", headers=headers).status_code == 404


def test_a_valid_id_number_is_shown_masked_and_stored_encrypted(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    headers = bearer(session, user)
    number = with_check_digit("11010519491231002")
    assert number == "11010519491231002X"

    response = client.post(
        f"{V1}/me/verification", json={"real_name": "张三", "id_number": number}, headers=headers
    )

    assert response.status_code == 201, response.text
    shown = response.json()["id_number"]
    assert shown.startswith("110")
    assert shown.endswith("002X")
    assert set(shown[3:-4]) == {"*"}
    assert number not in response.text
    assert number[:10] not in response.text  # not even the birth date
    later = client.get(f"{V1}/me/verification", headers=headers)
    assert later.json()["id_number"] == shown
    assert number not in later.text

    row = session.scalars(
        select(RealNameVerification).where(RealNameVerification.user_id == user.id)
    ).one()
    assert number.encode() not in row.id_number_encrypted
    assert number[6:14].encode() not in row.id_number_encrypted
    assert row.id_number_masked == shown
