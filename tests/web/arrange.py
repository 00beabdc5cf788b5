"""Arranging what a browser test needs through the API, as the other party or staff would
do it: listed goods, orders at each step, a seller with a balance. The page under test is
then driven through the browser only."""

from __future__ import annotations

import io
import re
import time
from typing import Any

from PIL import Image

from tests.catalog.test_videos import mp4_video
from tests.web.conftest import LiveServer


def jpeg_bytes(colour: tuple[int, int, int] | str = (200, 80, 40), size: int = 320) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def leaf_category(server: LiveServer) -> tuple[str, str, int]:
    """(parent name, child name, child id) of the first top-level category with children."""
    tree = server.call("GET", "/categories")
    parent = next(item for item in tree["items"] if item["children"])
    child = parent["children"][0]
    return parent["name"], child["name"], child["id"]


def submitted_goods(
    server: LiveServer,
    token: str,
    *,
    title: str,
    price: int,
    condition: str = "95新",
    city: str = "杭州",
    photos: int = 1,
    category_id: int | None = None,
) -> int:
    """Goods of the user behind `token`, submitted for review: a draft, photos, submit."""
    goods = server.call(
        "POST",
        "/goods",
        token=token,
        json={
            "category_id": category_id or leaf_category(server)[2],
            "title": title,
            "description": f"{title}，自用，功能正常。\n同城可面交。",
            "price": price,
            "original_price": price * 2,
            "condition": condition,
            "city": city,
        },
    )
    colours = [(217, 79, 61), (61, 122, 217), (61, 217, 138)]
    for index in range(photos):
        server.call(
            "POST",
            f"/goods/{goods['id']}/photos",
            token=token,
            files={"file": (f"p{index}.jpg", jpeg_bytes(colours[index % 3]), "image/jpeg")},
        )
    server.call("POST", f"/goods/{goods['id']}/submit", token=token)
    return int(goods["id"])


def listed_goods(server: LiveServer, token: str, **fields: Any) -> int:
    """Submitted goods (see `submitted_goods`) that a reviewer approved."""
    goods_id = submitted_goods(server, token, **fields)
    reviewer = server.login("reviewer@example.com")
    server.call("POST", f"/admin/goods/{goods_id}/approve", token=reviewer)
    return goods_id


def wait_searchable(server: LiveServer, q: str, count: int, *, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while server.call("GET", "/search", params={"q": q})["total"] < count:
        assert time.monotonic() < deadline, f"{q!r} did not reach the index"
        time.sleep(0.2)


def wait_for_status(
    server: LiveServer, order_id: int, token: str, status: str, *, seconds: float = 15
) -> None:
    deadline = time.monotonic() + seconds
    while server.call("GET", f"/orders/{order_id}", token=token)["status"] != status:
        assert time.monotonic() < deadline, f"order {order_id} never became {status}"
        time.sleep(0.2)


def pay(server: LiveServer, order_id: int, buyer_token: str) -> None:
    """The buyer pays through the sandbox; its signed notice reaches the server."""
    payment = server.call("POST", f"/orders/{order_id}/pay", token=buyer_token)
    with server.http() as http:
        assert http.post(payment["pay_url"]).status_code == 200
    wait_for_status(server, order_id, buyer_token, "paid")


def upload_video(server: LiveServer, order_id: int, seller_token: str) -> None:
    video = ("item.mp4", mp4_video(seconds=4), "video/mp4")
    server.call("POST", f"/orders/{order_id}/video", token=seller_token, files={"file": video})


def ship(server: LiveServer, order_id: int, seller_token: str) -> None:
    shipment = {"carrier": "SF", "tracking_number": "SF1234567890"}
    server.call("POST", f"/orders/{order_id}/ship", token=seller_token, json=shipment)


def paid_order(server: LiveServer, goods_id: int) -> tuple[int, str]:
    """A new buyer orders the goods and pays: (order id, the buyer's token)."""
    _email, _password, buyer = server.register("买家小王")
    order = server.call("POST", "/orders", token=buyer, json={"goods_id": goods_id})
    pay(server, order["id"], buyer)
    return int(order["id"]), buyer


def completed_sale(
    server: LiveServer, seller_token: str, *, price: int, title: str = "自用机械键盘 青轴"
) -> int:
    """A sale through escrow to the end: listed, bought, paid, filmed, shipped, received."""
    goods_id = listed_goods(server, seller_token, title=title, price=price)
    order_id, buyer = paid_order(server, goods_id)
    upload_video(server, order_id, seller_token)
    server.call("POST", f"/orders/{order_id}/confirm-video", token=buyer)
    ship(server, order_id, seller_token)
    server.call("POST", f"/orders/{order_id}/confirm-receipt", token=buyer)
    return order_id


def answer_dialog(page: Any, title: str, fields: dict[str, str], submit: str) -> None:
    """Fill the open dialog named `title` (label → value) and press `submit`."""
    dialog = page.get_by_role("dialog", name=re.compile(title))
    for label, value in fields.items():
        field = dialog.get_by_label(label)
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    dialog.get_by_role("button", name=submit).click()


def pay_in_browser(page: Any, price: str) -> int:
    """On an unpaid order's page: pay `price` (as shown, "¥90") through the sandbox
    cashier, wait until the gateway's notice makes it paid; returns the order's id."""
    page.get_by_role("button", name=f"去付款 {price}").click()
    page.get_by_role("dialog", name=re.compile("模拟支付")).get_by_role(
        "button", name="确定"
    ).click()
    page.get_by_role("region", name="订单状态").get_by_text("已付款", exact=True).wait_for()
    return int(re.search(r"#/orders/(\d+)", page.url).group(1))  # type: ignore[union-attr]
