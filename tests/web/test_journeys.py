"""The main journeys end to end in the browser, each person on their own screen: the
shopper from a search with a typo to a rating, and the seller from registering to a
withdrawal an operator pays out. The other side's steps that belong to another journey
are arranged through the API (tests/web/arrange.py)."""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.identity.id_numbers import check_digit
from tests.catalog.test_videos import mp4_video
from tests.web.arrange import (
    answer_dialog,
    jpeg_bytes,
    leaf_category,
    listed_goods,
    paid_order,
    pay_in_browser,
    ship,
    upload_video,
    wait_for_status,
    wait_searchable,
)
from tests.web.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser


def test_a_shopper_finds_bargains_buys_and_rates(
    phone: Any, second_phone: Any, live_server: LiveServer
) -> None:
    word = "Qix" + uuid.uuid4().hex[:5]
    seller_email, seller_password, seller_token = live_server.register("老周的相机铺")
    wanted = listed_goods(
        live_server,
        seller_token,
        title=f"{word} iPhone 13 128G 蓝色",
        price=260000,
        condition="99新",
        photos=2,
    )
    listed_goods(
        live_server,
        seller_token,
        title=f"{word} iPhone 12 64G 白色",
        price=180000,
        condition="9成新",
    )
    wait_searchable(live_server, word, 2)
    shopper_email, shopper_password, shopper_token = live_server.register("爱砍价的小刘")
    buyer, seller = phone, second_phone

    # Search with a typo in the model, then narrow by the condition facet.
    sign_in(buyer, live_server, shopper_email, shopper_password, path="/#/search")
    box = buyer.get_by_role("combobox", name="搜索关键词")
    box.fill(f"iphnoe {word}")
    box.press("Enter")
    results = buyer.get_by_role("list", name="搜索结果")
    expect(results.locator(f'[data-goods-id="{wanted}"]')).to_be_visible()
    expect(results.locator(f'[data-goods-id="{wanted}"] mark').first).to_be_visible()
    buyer.get_by_role("button", name="筛选").click()
    buyer.get_by_role("region", name="筛选条件").get_by_role("checkbox", name="99新").check()
    buyer.wait_for_url("**condition=99*")
    expect(results.locator("[data-goods-id]").first).to_be_visible()
    conditions = results.locator(".tag").all_inner_texts()
    assert set(conditions) == {"99新"}
    expect(results.locator(f'[data-goods-id="{wanted}"]')).to_be_visible()

    # Open it, and bargain from the goods page.
    results.locator(f'[data-goods-id="{wanted}"]').click()
    buyer.wait_for_url(f"**/#/goods/{wanted}")
    expect(buyer.get_by_role("heading", name=re.compile(word))).to_be_visible()
    buyer.get_by_role("button", name="砍价").click()
    buyer.wait_for_url("**/#/chat/*?offer=1")
    answer_dialog(buyer, "出个价", {"价格（元）": "2400"}, "提交")
    expect(buyer.get_by_role("region", name="买家出价 ¥2400")).to_be_visible()

    # The seller accepts on their own phone.
    sign_in(seller, live_server, seller_email, seller_password, path="/#/messages")
    seller.get_by_role("list", name="聊天列表").get_by_role(
        "link", name=re.compile("爱砍价的小刘")
    ).click()
    seller.get_by_role("region", name="买家出价 ¥2400").get_by_role("button", name="接受").click()
    expect(seller.get_by_role("link", name="查看订单")).to_be_visible()

    # The buyer pays the agreed price through the sandbox cashier.
    offer = buyer.get_by_role("region", name="买家出价 ¥2400")
    offer.get_by_role("link", name="去付款").click()
    order_id = pay_in_browser(buyer, "¥2400")
    status = buyer.get_by_role("region", name="订单状态")
    assert live_server.call("GET", f"/orders/{order_id}", token=shopper_token)["price"] == 240000

    # The seller films the item; the buyer watches and confirms it.
    upload_video(live_server, order_id, seller_token)
    buyer.reload()
    buyer.get_by_label("卖家上传的宝贝视频").wait_for()
    buyer.get_by_role("button", name="确认视频无误").click()
    status.get_by_text("待发货").wait_for()

    # Shipped; the buyer confirms receipt and rates the seller.
    ship(live_server, order_id, seller_token)
    buyer.reload()
    buyer.get_by_role("button", name="确认收货").click()
    buyer.get_by_role("dialog").get_by_role("button", name="确定").click()
    status.get_by_text("交易完成").wait_for()
    buyer.get_by_role("button", name="去评价").click()
    answer_dialog(
        buyer, "评价卖家", {"评分": "5", "评价内容（选填）": "相机成色很好，砍价爽快"}, "提交评价"
    )
    buyer.get_by_text("相机成色很好，砍价爽快").wait_for()

    order = live_server.call("GET", f"/orders/{order_id}", token=shopper_token)
    assert order["status"] == "completed"
    assert [rating["score"] for rating in order["ratings"]] == [5]
    wallet = live_server.call("GET", "/wallet", token=seller_token)
    assert wallet["available"] == order["seller_receives"]


def _unique_real_name() -> str:
    return "欧阳" + "".join(random.choice("春夏秋冬梅兰竹菊松柏明亮") for _ in range(2))


def test_a_seller_registers_publishes_sells_and_withdraws(
    phone: Any, desktop: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    seller = phone
    email = f"seller-{uuid.uuid4().hex[:8]}@example.com"
    title = f"九成新 索尼 WH-1000XM4 降噪耳机 {uuid.uuid4().hex[:4]}"

    # Register in the app, then verify a real name.
    seller.goto(live_server.url + "/#/login?next=%2Fme")
    seller.get_by_role("tab", name="注册").click()
    form = seller.get_by_role("form", name="注册")
    form.get_by_label("手机号或邮箱").fill(email)
    form.get_by_label("设置密码").fill("seller-pass-123")
    form.get_by_label("昵称").fill("耳机发烧友")
    form.get_by_role("button", name="注册并登录").click()
    seller.wait_for_url("**/#/me")
    seller.get_by_role("link", name=re.compile("实名认证")).click()
    name = _unique_real_name()
    first17 = (
        f"3301061991{random.randint(1, 12):02d}{random.randint(10, 28)}{random.randint(100, 999)}"
    )
    seller.get_by_label("真实姓名").fill(name)
    seller.get_by_label("身份证号").fill(first17 + check_digit(first17))
    seller.get_by_role("button", name="提交认证").click()
    expect(seller.get_by_role("region", name="认证状态").get_by_text("审核中")).to_be_visible()

    # An operator approves the verification in the console.
    sign_in(desktop, live_server, "operator@example.com", path="/admin#/verifications")
    desktop.get_by_role("button", name=f"通过 {name}").click()
    expect(desktop.get_by_role("button", name=f"通过 {name}")).to_have_count(0)

    # Publish with two photos from the + tab.
    seller.goto(live_server.url + "/#/me")
    seller.get_by_role("link", name="发布闲置").click()
    parent, child, _ = leaf_category(live_server)
    seller.get_by_label("一级分类").select_option(label=parent)
    seller.get_by_label("二级分类").select_option(label=child)
    seller.get_by_label("标题").fill(title)
    seller.get_by_label("描述").fill("降噪正常，耳罩九成新，配件齐全。")
    seller.get_by_label("价格（元）").fill("900")
    seller.get_by_label("成色").select_option("9成新")
    seller.get_by_label("所在城市").fill("杭州")
    photos = [tmp_path / "front.jpg", tmp_path / "side.jpg"]
    for path, colour in zip(photos, [(30, 30, 30), (120, 120, 130)], strict=True):
        path.write_bytes(jpeg_bytes(colour))
    seller.get_by_label("添加照片").set_input_files([str(path) for path in photos])
    expect(seller.get_by_role("img", name="照片 2")).to_be_visible()
    seller.get_by_role("button", name="发布").click()
    expect(seller.get_by_role("heading", name="已提交审核")).to_be_visible()
    seller_token = live_server.login(email, "seller-pass-123")
    mine = live_server.call("GET", "/me/goods", token=seller_token)["items"]
    goods_id = next(item["id"] for item in mine if item["title"] == title)
    assert len(live_server.call("GET", f"/goods/{goods_id}", token=seller_token)["photos"]) == 2

    # A reviewer approves it from the queue with the keyboard; it is public and searchable.
    sign_in(desktop, live_server, "reviewer@example.com", path=f"/admin#/review?focus={goods_id}")
    focus = desktop.get_by_role("region", name="当前审核")
    expect(focus.get_by_role("heading", level=2)).to_have_text(title)
    desktop.keyboard.press("a")
    expect(focus.get_by_role("heading", level=2)).not_to_have_text(title)
    seller.goto(live_server.url + "/#/my-goods?status=listed")
    row = seller.get_by_role("listitem").filter(has_text=title)
    expect(row.get_by_text("在售")).to_be_visible()
    wait_searchable(live_server, title, 1)

    # A shopper buys and pays; the seller films the item and ships it.
    order_id, buyer_token = paid_order(live_server, goods_id)
    seller.goto(live_server.url + "/#/orders?role=seller")
    seller.get_by_role("link", name=re.compile(f"订单 #{order_id}")).click()
    seller.get_by_label("选择宝贝视频").set_input_files(
        {"name": "item.mp4", "mimeType": "video/mp4", "buffer": mp4_video(seconds=4)}
    )
    status = seller.get_by_role("region", name="订单状态")
    status.get_by_text("待确认视频").wait_for()
    live_server.call("POST", f"/orders/{order_id}/confirm-video", token=buyer_token)
    seller.reload()
    seller.get_by_role("button", name="去发货").click()
    answer_dialog(
        seller, "填写发货信息", {"快递公司": "SF", "快递单号": "SF9876543210"}, "确认发货"
    )
    status.get_by_text("已发货").wait_for()
    live_server.call("POST", f"/orders/{order_id}/confirm-receipt", token=buyer_token)
    wait_for_status(live_server, order_id, buyer_token, "completed")

    # The balance, a payout account, a withdrawal.
    earned = live_server.call("GET", f"/orders/{order_id}", token=seller_token)["seller_receives"]
    seller.goto(live_server.url + "/#/wallet")
    balances = seller.get_by_role("region", name="余额")
    expect(balances.get_by_text(f"¥{earned / 100:g}").first).to_be_visible()
    seller.get_by_role("button", name="添加账户").click()
    account = seller.get_by_role("form", name="添加提现账户")
    account.get_by_label("账户类型").select_option(label="支付宝")
    account.get_by_label("户名").fill(name)
    account.get_by_label("账号").fill("13700137000")
    account.get_by_role("button", name="保存账户").click()
    seller.get_by_role("list", name="提现账户").get_by_text(name).wait_for()
    seller.get_by_label("提现金额（元）").fill("500")
    seller.get_by_role("button", name="申请提现").click()
    withdrawals = seller.get_by_role("list", name="提现记录")
    expect(withdrawals.get_by_text("处理中")).to_be_visible()
    withdrawal = live_server.call("GET", "/withdrawals", token=seller_token)["items"][0]

    # The operator pays it out by hand and records the transfer; the seller sees it arrive.
    sign_in(desktop, live_server, "operator@example.com", path="/admin#/withdrawals")
    desktop.get_by_role("button", name=f"打款 #{withdrawal['id']}", exact=True).click()
    desktop.get_by_label("转账流水号").fill("ALI2026120799")
    desktop.get_by_role("button", name="标记为已打款").click()
    expect(
        desktop.get_by_role("button", name=f"打款 #{withdrawal['id']}", exact=True)
    ).to_have_count(0)
    seller.reload()
    expect(withdrawals.get_by_text("已到账")).to_be_visible()
    wallet = live_server.call("GET", "/wallet", token=seller_token)
    assert (wallet["available"], wallet["reserved"]) == (earned - 500_00, 0)
