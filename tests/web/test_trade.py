"""Trade in the browser, two people on two phones: a chat that arrives live, a warning
about contact details, bargaining to a price, and the order from payment through video,
shipping and receipt to both ratings. A stranger cannot open the order."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.catalog.test_videos import mp4_video
from tests.web.arrange import answer_dialog, listed_goods, pay_in_browser
from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_chat_bargain_pay_and_finish_an_order_on_two_phones(
    phone: Any, second_phone: Any, live_server: LiveServer
) -> None:
    shopper_email, shopper_password, _ = live_server.register("小买")
    seller_email, seller_password, seller_token = live_server.register("小卖")
    goods_id = listed_goods(live_server, seller_token, title="九成新机械键盘 青轴", price=10000)
    shopper_token = live_server.tokens[shopper_email]
    conversation = live_server.call("POST", f"/goods/{goods_id}/conversations", token=shopper_token)

    buyer, seller = phone, second_phone
    sign_in(seller, live_server, seller_email, seller_password, path="/#/messages")
    seller.get_by_role("list", name="聊天列表").get_by_text("暂无消息").wait_for()
    sign_in(
        buyer, live_server, shopper_email, shopper_password, path=f"/#/chat/{conversation['id']}"
    )
    buyer.get_by_role("link", name=re.compile("九成新机械键盘")).wait_for()

    # The shopper writes; the seller's list shows it live, with unread counts.
    buyer.get_by_label("输入消息").fill("你好，键盘还在吗？")
    buyer.get_by_label("输入消息").press("Enter")
    buyer.get_by_text("你好，键盘还在吗？").wait_for()
    chats = seller.get_by_role("list", name="聊天列表")
    chats.get_by_text("你好，键盘还在吗？").wait_for()
    assert chats.get_by_label("1条未读").is_visible()
    tab_badge = seller.locator("#unread-badge")
    seller.wait_for_function("() => document.getElementById('unread-badge').textContent === '1'")
    assert tab_badge.is_visible()
    screenshot(seller, "h5-messages")

    # The seller opens it (read: the badge goes); a phone number warns the recipient only.
    chats.get_by_role("link", name=re.compile("小买|买家")).click()
    seller.get_by_text("你好，键盘还在吗？").wait_for()
    buyer.get_by_label("输入消息").fill("方便的话加我 13812345678")
    buyer.get_by_role("button", name="发送").click()
    seller.get_by_text("方便的话加我 13812345678").wait_for()
    seller.get_by_role("note").filter(has_text="联系方式").wait_for()
    assert buyer.get_by_role("note").count() == 0

    # Bargaining: ¥80 offered, ¥90 countered, the shopper accepts the counter.
    buyer.get_by_role("button", name="出价").click()
    answer_dialog(buyer, "出个价", {"价格（元）": "80"}, "提交")
    offer = seller.get_by_role("region", name="买家出价 ¥80")
    offer.get_by_role("button", name="还价").click()
    answer_dialog(seller, "还价", {"价格（元）": "90"}, "提交")
    counter = buyer.get_by_role("region", name="卖家还价 ¥90")
    counter.get_by_text("待回应").wait_for()
    assert buyer.get_by_role("region", name="买家出价 ¥80").get_by_text("已还价").is_visible()
    screenshot(buyer, "h5-chat")
    counter.get_by_role("button", name="接受").click()
    counter.get_by_role("link", name="去付款").click()

    # Paying through the sandbox cashier; the gateway's notice turns it paid.
    order_id = pay_in_browser(buyer, "¥90")
    status = buyer.get_by_role("region", name="订单状态")

    # The seller finds it among sold orders and uploads a video.
    seller.goto(f"{live_server.url}/#/orders?role=seller")
    card = seller.get_by_role("link", name=re.compile(f"订单 #{order_id}"))
    card.get_by_text("请上传宝贝视频").wait_for()
    screenshot(seller, "h5-orders")
    card.click()
    seller.get_by_label("选择宝贝视频").set_input_files(
        {"name": "short.mp4", "mimeType": "video/mp4", "buffer": mp4_video(seconds=1)}
    )
    seller.get_by_text("上传失败：视频太短（至少3秒）").wait_for()
    seller.get_by_label("选择宝贝视频").set_input_files(
        {"name": "item.mp4", "mimeType": "video/mp4", "buffer": mp4_video(seconds=4)}
    )
    seller.get_by_role("region", name="订单状态").get_by_text("待确认视频").wait_for()

    # The buyer watches the video (fetched with the login) and confirms it.
    buyer.reload()
    buyer.get_by_label("卖家上传的宝贝视频").wait_for()
    buyer.get_by_role("button", name="确认视频无误").click()
    status.get_by_text("待发货").wait_for()

    # The seller ships.
    seller.reload()
    seller.get_by_role("button", name="去发货").click()
    answer_dialog(
        seller, "填写发货信息", {"快递公司": "SF", "快递单号": "SF1234567890"}, "确认发货"
    )
    seller.get_by_role("region", name="订单状态").get_by_text("已发货").wait_for()

    # The buyer tracks the parcel and confirms receipt.
    buyer.reload()
    buyer.get_by_role("button", name="查看物流").click()
    buyer.get_by_role("region", name="物流信息").get_by_text("顺丰速运 SF1234567890").wait_for()
    buyer.get_by_role("button", name="确认收货").click()
    buyer.get_by_role("dialog").get_by_role("button", name="确定").click()
    status.get_by_text("交易完成").wait_for()

    # Both rate.
    buyer.get_by_role("button", name="去评价").click()
    answer_dialog(buyer, "评价卖家", {"评分": "5", "评价内容（选填）": "键盘很好"}, "提交评价")
    buyer.get_by_text("键盘很好").wait_for()
    seller.reload()
    seller.get_by_role("button", name="去评价").click()
    answer_dialog(seller, "评价买家", {"评分": "4"}, "提交评价")
    seller.get_by_text("卖家评价买家").wait_for()
    assert seller.get_by_role("button", name="去评价").count() == 0

    timeline = buyer.get_by_role("list", name="订单进度")
    buyer.reload()
    timeline.get_by_text("买家确认收货").wait_for()
    steps = timeline.locator("li strong").all_inner_texts()
    assert steps == [
        "买家确认收货",
        "卖家发货",
        "买家确认视频",
        "卖家上传视频",
        "付款成功",
        "下单",
    ]
    assert "待付款 → 已付款" in timeline.inner_text()
    screenshot(buyer, "h5-order")

    # The seller's notices link to the order.
    seller.goto(f"{live_server.url}/#/messages?tab=notices")
    notices = seller.get_by_role("list", name="通知列表")
    notices.get_by_text(f"订单 #{order_id}：交易完成").wait_for()
    seller.get_by_role("button", name="全部已读").click()
    seller.get_by_text("0 条未读").wait_for()

    # Someone else's order is not there for a stranger.
    stranger_email, stranger_password, _ = live_server.register("路人")
    sign_in(buyer, live_server, stranger_email, stranger_password, path=f"/#/orders/{order_id}")
    buyer.get_by_text("订单不存在，或你不是该订单的买家或卖家").wait_for()
    buyer.goto(f"{live_server.url}/#/chat/{conversation['id']}")
    buyer.get_by_text("会话不存在或无权查看").wait_for()


def test_the_message_rate_limit_is_said_in_the_chat(phone: Any, live_server: LiveServer) -> None:
    shopper_email, shopper_password, shopper_token = live_server.register("话多的买家")
    _, _, seller_token = live_server.register("卖家")
    goods_id = listed_goods(live_server, seller_token, title="闲置台灯 暖光", price=3000)
    conversation = live_server.call("POST", f"/goods/{goods_id}/conversations", token=shopper_token)
    sign_in(
        phone, live_server, shopper_email, shopper_password, path=f"/#/chat/{conversation['id']}"
    )
    phone.get_by_label("输入消息").wait_for()
    # The limit counts per calendar minute: start well inside one, then use it up.
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
    with live_server.http(shopper_token) as http:
        for number in range(1, 62):
            answer = http.post(
                f"/api/v1/conversations/{conversation['id']}/messages",
                json={"text": f"第{number}条"},
            )
            if answer.status_code == 429:
                break
    assert answer.status_code == 429, answer.text
    phone.get_by_text(f"第{number - 1}条", exact=True).wait_for()
    phone.get_by_label("输入消息").fill("还有一条")
    phone.get_by_role("button", name="发送").click()
    phone.get_by_role("alert").filter(has_text="发送太频繁").wait_for()
    assert phone.get_by_label("输入消息").input_value() == "还有一条"
