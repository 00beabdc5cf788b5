"""Selling and the 我的 tab in a real browser: publishing with photos, my goods through
review, the me page, real-name verification, and the wallet down to a withdrawal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.identity.id_numbers import check_digit
from tests.web.arrange import (
    completed_sale,
    jpeg_bytes,
    leaf_category,
    listed_goods,
    submitted_goods,
)
from tests.web.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser


def id_number(first17: str = "11010119900307123") -> str:
    """A well-formed resident ID number (GB 11643-1999 check digit)."""
    return first17 + check_digit(first17)


def jpeg(path: Path, colour: tuple[int, int, int]) -> Path:
    """A photo on disk, for the file picker."""
    path.write_bytes(jpeg_bytes(colour))
    return path


def test_a_new_seller_publishes_goods_with_photos_through_review(
    phone: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    email, password, token = live_server.register("新卖家")
    parent, child, _category_id = leaf_category(live_server)
    sign_in(phone, live_server, email, password, path="/#/publish")

    # Publishing an empty form says what is missing, next to each field.
    phone.get_by_role("button", name="发布").click()
    expect(phone.get_by_text("请选择分类")).to_be_visible()
    expect(phone.get_by_text("标题至少 2 个字")).to_be_visible()

    phone.get_by_label("一级分类").select_option(label=parent)
    phone.get_by_label("二级分类").select_option(label=child)
    phone.get_by_label("标题").fill("九成新 Kindle Paperwhite 5")
    phone.get_by_label("描述").fill("去年双十一买的，屏幕无划痕，送保护套。")
    phone.get_by_label("价格（元）").fill("368.5")
    phone.get_by_label("原价（元）").fill("999")
    phone.get_by_label("成色").select_option("9成新")
    phone.get_by_label("所在城市").fill("上海")
    red, blue = (
        jpeg(tmp_path / "red.jpg", (220, 40, 40)),
        jpeg(tmp_path / "blue.jpg", (40, 40, 220)),
    )
    phone.get_by_label("添加照片").set_input_files([str(red), str(blue)])
    expect(phone.get_by_role("img", name="照片 2")).to_be_visible()

    phone.get_by_role("button", name="存草稿").click()
    phone.get_by_text("草稿已保存").wait_for()
    phone.wait_for_url("**/#/publish/*")
    goods_id = int(phone.url.rsplit("/", 1)[-1])
    draft = live_server.call("GET", f"/goods/{goods_id}", token=token)
    assert draft["status"] == "draft"
    assert draft["price"] == 36850
    assert draft["original_price"] == 99900
    first, second = (photo["id"] for photo in draft["photos"])

    # The second photo moves to the front and becomes the main photo, kept after a reload.
    phone.get_by_role("button", name="照片 2 左移").click()
    phone.wait_for_function(
        "([id, first]) => fetch(`/api/v1/goods/${id}`, {headers: {Authorization: "
        "`Bearer ${localStorage.getItem('idlemarket.token')}`}}).then(r => r.json())"
        ".then(g => g.photos[0].id !== first)",
        arg=[goods_id, first],
    )
    phone.reload()
    assert phone.get_by_label("标题").input_value() == "九成新 Kindle Paperwhite 5"
    photos = live_server.call("GET", f"/goods/{goods_id}", token=token)["photos"]
    assert [photo["id"] for photo in photos] == [second, first]
    assert phone.get_by_role("img", name="照片 1").get_attribute("src") == photos[0]["thumb_url"]
    phone.get_by_label("不议价（买家不能出价）").check()
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "h5-publish")

    phone.get_by_role("button", name="发布").click()
    expect(phone.get_by_role("heading", name="已提交审核")).to_be_visible()
    assert live_server.call("GET", f"/goods/{goods_id}", token=token)["no_bargaining"] is True

    phone.get_by_role("link", name="我发布的").click()
    row = phone.get_by_role("listitem").filter(has_text="Kindle Paperwhite")
    expect(row.get_by_text("审核中")).to_be_visible()
    expect(row.get_by_text("¥368.50")).to_be_visible()

    reviewer = live_server.login("reviewer@example.com")
    live_server.call("POST", f"/admin/goods/{goods_id}/approve", token=reviewer)
    phone.reload()
    phone.get_by_role("tab", name="在售").click()
    row = phone.get_by_role("listitem").filter(has_text="Kindle Paperwhite")
    expect(row.get_by_text("在售")).to_be_visible()
    screenshot(phone, "h5-my-goods")
    row.get_by_role("link", name="查看").click()
    phone.wait_for_url(f"**/#/goods/{goods_id}")
    assert live_server.call("GET", f"/goods/{goods_id}")["status"] == "listed"  # public

    # Taking it off the market.
    phone.go_back()
    row = phone.get_by_role("listitem").filter(has_text="Kindle Paperwhite")
    row.get_by_role("button", name="下架").click()
    phone.get_by_role("dialog").get_by_role("button", name="确定").click()
    expect(row.get_by_text("已下架")).to_be_visible()
    assert live_server.call("GET", f"/goods/{goods_id}", token=token)["status"] == "withdrawn"


def test_rejected_goods_show_the_reason_and_go_back_to_review_after_an_edit(
    phone: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    email, password, token = live_server.register("被拒卖家")
    goods_id = submitted_goods(live_server, token, title="二手 滑板 双翘", price=12000)
    first_photo = live_server.call("GET", f"/goods/{goods_id}", token=token)["photos"][0]["id"]
    reviewer = live_server.login("reviewer@example.com")
    reason = "图片与标题不符，请补充实物照片"
    live_server.call(
        "POST", f"/admin/goods/{goods_id}/reject", token=reviewer, json={"reason": reason}
    )
    sign_in(phone, live_server, email, password, path="/#/my-goods?status=rejected")
    assert phone.get_by_role("tab", name="未通过").get_attribute("aria-selected") == "true"
    row = phone.get_by_role("listitem").filter(has_text="滑板")
    expect(row.get_by_text(f"未通过原因：{reason}")).to_be_visible()
    row.get_by_role("link", name="修改").click()

    phone.wait_for_url(f"**/#/publish/{goods_id}")
    expect(phone.get_by_role("note").filter(has_text=reason)).to_be_visible()
    # A clearer photo replaces the old one: uploaded at once, the old one deleted.
    phone.get_by_label("添加照片").set_input_files(str(jpeg(tmp_path / "new.jpg", (30, 160, 60))))
    expect(phone.get_by_role("img", name="照片 2")).to_have_attribute("src", re.compile("/media/"))
    phone.get_by_role("button", name="删除照片 1").click()
    expect(phone.get_by_role("img", name="照片 2")).to_have_count(0)
    phone.get_by_label("标题").fill("二手 滑板 双翘 枫木板面")
    phone.get_by_role("button", name="重新提交").click()
    expect(phone.get_by_role("heading", name="已提交审核")).to_be_visible()
    goods = live_server.call("GET", f"/goods/{goods_id}", token=token)
    assert (goods["status"], goods["title"]) == ("pending_review", "二手 滑板 双翘 枫木板面")
    assert len(goods["photos"]) == 1
    assert goods["photos"][0]["id"] != first_photo


def test_editing_the_price_of_listed_goods_keeps_them_on_sale(
    phone: Any, live_server: LiveServer
) -> None:
    email, password, token = live_server.register("改价卖家")
    goods_id = listed_goods(live_server, token, title="九九新 电饭煲 3L", price=15000)
    sign_in(phone, live_server, email, password, path=f"/#/publish/{goods_id}")
    expect(phone.get_by_label("价格（元）")).to_have_value("150")
    assert phone.get_by_role("button", name="存草稿").count() == 0
    phone.get_by_label("价格（元）").fill("99")
    phone.get_by_role("button", name="保存修改").click()
    expect(phone.get_by_text("已保存", exact=True)).to_be_visible()
    goods = live_server.call("GET", f"/goods/{goods_id}")
    assert (goods["status"], goods["price"]) == ("listed", 9900)


def test_the_me_tab_logged_out_and_in(phone: Any, live_server: LiveServer) -> None:
    phone.goto(live_server.url + "/#/me")
    phone.get_by_role("link", name="登录 / 注册").click()
    phone.wait_for_url("**/#/login?next=%2Fme")

    email, password, _token = live_server.register("小明同学")
    sign_in(phone, live_server, email, password, path="/#/me")
    expect(phone.get_by_role("heading", name="小明同学")).to_be_visible()
    expect(phone.get_by_text(f"{email[:2]}***@example.com")).to_be_visible()
    expect(phone.get_by_role("link", name="钱包 可提现 ¥0")).to_be_visible()
    expect(phone.get_by_role("link", name="实名认证 未认证")).to_be_visible()
    expect(phone.get_by_role("link", name="我买到的")).to_have_attribute(
        "href", "#/orders?role=buyer"
    )
    expect(phone.get_by_role("link", name="我卖出的")).to_have_attribute(
        "href", "#/orders?role=seller"
    )
    assert phone.get_by_role("link", name="管理后台").count() == 0
    screenshot(phone, "h5-me")
    phone.get_by_role("button", name="退出登录").click()
    phone.get_by_role("link", name="登录 / 注册").wait_for()
    assert phone.evaluate("localStorage.getItem('idlemarket.token')") is None


def test_a_rejected_verification_shows_the_reason_and_the_form_again(
    phone: Any, live_server: LiveServer
) -> None:
    email, password, token = live_server.register("认证被拒")
    number = id_number("44030419881231456")
    live_server.call(
        "POST",
        "/me/verification",
        token=token,
        json={"real_name": "李四", "id_number": number},
    )
    operator = live_server.login("operator@example.com")
    me = live_server.call("GET", "/me", token=token)
    pending = live_server.call(
        "GET", "/admin/verifications", token=operator, params={"page_size": 100}
    )
    mine = next(item for item in pending["items"] if item["user_id"] == me["id"])
    live_server.call(
        "POST",
        f"/admin/verifications/{mine['id']}/reject",
        token=operator,
        json={"reason": "照片模糊，请重新提交"},
    )
    sign_in(phone, live_server, email, password, path="/#/verify")
    status = phone.get_by_role("region", name="认证状态")
    expect(status.get_by_text("未通过", exact=True)).to_be_visible()
    expect(status.get_by_text("未通过原因：照片模糊，请重新提交")).to_be_visible()
    phone.get_by_label("真实姓名").fill("李四")
    phone.get_by_label("身份证号").fill(number[:-1] + ("0" if number[-1] != "0" else "1"))
    phone.get_by_role("button", name="重新提交").click()
    expect(phone.get_by_text("身份证号码不正确")).to_be_visible()  # a wrong check digit


def test_staff_see_the_admin_console_entry(phone: Any, live_server: LiveServer) -> None:
    sign_in(phone, live_server, "reviewer@example.com", path="/#/me")
    assert phone.get_by_role("link", name="管理后台").get_attribute("href") == "/admin"


def test_a_seller_verifies_and_withdraws_what_a_sale_earned(
    phone: Any, live_server: LiveServer
) -> None:
    email, password, token = live_server.register("卖键盘的")
    completed_sale(live_server, token, price=20000)
    available = live_server.call("GET", "/wallet", token=token)["available"]
    assert available > 0
    sign_in(phone, live_server, email, password, path="/#/wallet")
    balances = phone.get_by_role("region", name="余额")
    expect(balances.get_by_text(f"¥{available / 100:g}").first).to_be_visible()
    expect(phone.get_by_role("list", name="收支明细").get_by_text("卖出收入")).to_be_visible()

    # A payout account is added and shown masked.
    phone.get_by_role("button", name="添加账户").click()
    form = phone.get_by_role("form", name="添加提现账户")
    form.get_by_label("账户类型").select_option(label="支付宝")
    form.get_by_label("户名").fill("张三丰")
    form.get_by_label("账号").fill("not-an-account")
    form.get_by_role("button", name="保存账户").click()
    expect(form.get_by_text("账号格式不正确")).to_be_visible()  # the server's refusal, in place
    form.get_by_label("账号").fill("13800138000")
    form.get_by_role("button", name="保存账户").click()
    accounts = phone.get_by_role("list", name="提现账户")
    accounts.get_by_text("张三丰").wait_for()
    assert "13800138000" not in accounts.inner_text()

    # Withdrawing needs real-name verification: the page says so and links to it.
    phone.get_by_label("提现金额（元）").fill("50")
    phone.get_by_role("button", name="申请提现").click()
    refusal = phone.get_by_role("alert").filter(has_text="提现前需要完成实名认证")
    refusal.get_by_role("link", name="去实名认证").click()
    phone.wait_for_url("**/#/verify")
    number = id_number()
    phone.get_by_label("真实姓名").fill("张三丰")
    phone.get_by_label("身份证号").fill(number)
    phone.get_by_role("button", name="提交认证").click()
    status = phone.get_by_role("region", name="认证状态")
    expect(status.get_by_text("审核中")).to_be_visible()
    expect(status.get_by_text(number[:3] + "*" * 11 + number[-4:])).to_be_visible()
    assert phone.get_by_role("button", name="提交认证").count() == 0
    screenshot(phone, "h5-verify")

    operator = live_server.login("operator@example.com")
    pending = live_server.call(
        "GET", "/admin/verifications", token=operator, params={"page_size": 100}
    )
    me = live_server.call("GET", "/me", token=token)
    mine = next(item for item in pending["items"] if item["user_id"] == me["id"])
    live_server.call("POST", f"/admin/verifications/{mine['id']}/approve", token=operator)
    phone.reload()
    expect(status.get_by_text("已认证")).to_be_visible()

    phone.goto(live_server.url + "/#/wallet")
    phone.get_by_label("提现金额（元）").fill("50")
    phone.get_by_role("button", name="申请提现").click()
    withdrawals = phone.get_by_role("list", name="提现记录")
    withdrawals.get_by_text("¥50").wait_for()
    expect(withdrawals.get_by_text("处理中")).to_be_visible()
    expect(balances.get_by_text("¥50")).to_be_visible()  # 提现中
    expect(balances.get_by_text(f"¥{(available - 5000) / 100:g}").first).to_be_visible()
    wallet = live_server.call("GET", "/wallet", token=token)
    assert (wallet["available"], wallet["reserved"]) == (available - 5000, 5000)
    screenshot(phone, "h5-wallet")

    accounts.get_by_role("button", name="删除账户 138****8000").click()
    phone.get_by_role("dialog").get_by_role("button", name="确定").click()
    expect(phone.get_by_text("还没有提现账户")).to_be_visible()
