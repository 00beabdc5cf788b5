"""The admin console in a desktop browser: staff log in, reviewers clear the queue from the
keyboard, operators pay out, refuse and settle disputes, admins tune the platform.

Each test makes its own sellers, buyers and goods through the API (tests/web/arrange.py)
and finds them by id, so the shared catalog's contents never matter."""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.identity.id_numbers import check_digit
from tests.web.arrange import completed_sale, listed_goods, paid_order, submitted_goods
from tests.web.conftest import DEMO_PASSWORDS, LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser


# --- arranging through the API -------------------------------------------------------


def _verified_seller(server: LiveServer) -> str:
    """A fresh seller whose real-name verification an operator approved."""
    _, _, token = server.register("测试卖家")
    first17 = "110105" + "19" + f"{random.randint(60, 99)}" + "0101" + f"{random.randint(100, 999)}"
    verification = server.call(
        "POST",
        "/me/verification",
        token=token,
        json={"real_name": "李四", "id_number": first17 + check_digit(first17)},
    )
    operator = server.login("operator@example.com")
    server.call("POST", f"/admin/verifications/{verification['id']}/approve", token=operator)
    return token


def _sign_in_admin(page: Any, server: LiveServer, email: str, path: str) -> None:
    sign_in(page, server, email, path=f"/admin#{path}")


# --- the tests ----------------------------------------------------------------------


def test_staff_log_in_through_the_form_and_a_shopper_is_refused(
    desktop: Any, live_server: LiveServer
) -> None:
    desktop.goto(live_server.url + "/admin")
    desktop.wait_for_url("**/admin#/login")
    desktop.get_by_label("邮箱或手机号").fill("shopper@example.com")
    desktop.get_by_label("密码").fill(DEMO_PASSWORDS["shopper@example.com"])
    desktop.get_by_role("button", name="登录").click()
    expect(desktop.get_by_role("alert")).to_contain_text("不是后台工作人员")
    assert desktop.evaluate("localStorage.getItem('idlemarket.token')") is None

    desktop.get_by_label("邮箱或手机号").fill("operator@example.com")
    desktop.get_by_label("密码").fill(DEMO_PASSWORDS["operator@example.com"])
    desktop.get_by_role("button", name="登录").click()
    desktop.wait_for_url("**/admin#/review")
    nav = desktop.get_by_role("navigation", name="后台导航")
    expect(nav.get_by_role("link", name="提现")).to_be_visible()
    expect(nav.get_by_role("link", name="佣金")).to_have_count(0)
    desktop.goto(live_server.url + "/admin#/commission")
    expect(desktop.get_by_text("你的角色不能使用这个功能")).to_be_visible()


def test_reviewer_clears_goods_with_the_keyboard_alone(
    desktop: Any, live_server: LiveServer
) -> None:
    _, _, seller = live_server.register("键盘卖家")
    tag = uuid.uuid4().hex[:6]
    first, second, third, fourth = (
        submitted_goods(live_server, seller, title=f"审核{n} 九成新台灯 {tag}", price=99_00)
        for n in range(1, 5)
    )
    _sign_in_admin(desktop, live_server, "reviewer@example.com", f"/review?focus={first}")
    focus = desktop.get_by_role("region", name="当前审核")
    expect(focus.get_by_role("heading", level=2)).to_have_text(f"审核1 九成新台灯 {tag}")
    expect(desktop.get_by_role("complementary", name="快捷键")).to_contain_text("批量通过")
    expect(focus.get_by_text("首次审核")).to_be_visible()
    counters = desktop.get_by_role("status").filter(has_text="剩余")
    left = int(re.search(r"剩余 (\d+) 件", counters.inner_text()).group(1))  # type: ignore[union-attr]
    screenshot(desktop, "admin-review")

    desktop.keyboard.press("a")
    expect(focus.get_by_role("heading", level=2)).to_have_text(f"审核2 九成新台灯 {tag}")
    expect(counters).to_contain_text(f"剩余 {left - 1} 件")

    desktop.keyboard.press("r")
    reason = desktop.get_by_label("驳回原因（Enter 提交，Esc 取消）")
    expect(reason).to_be_focused()
    expect(desktop.get_by_role("group", name="常用原因")).to_contain_text("站外联系方式")
    desktop.keyboard.type("图片不清晰")
    desktop.keyboard.press("Enter")
    expect(focus.get_by_role("heading", level=2)).to_have_text(f"审核3 九成新台灯 {tag}")

    desktop.keyboard.press("x")
    desktop.keyboard.press("j")
    expect(focus.get_by_role("heading", level=2)).to_have_text(f"审核4 九成新台灯 {tag}")
    desktop.keyboard.press("x")
    expect(counters).to_contain_text("已选 2")
    desktop.keyboard.press("Shift+A")
    expect(desktop.get_by_role("status").filter(has_text="已批量通过 2 件")).to_be_visible()
    expect(counters).to_contain_text("本次已通过 3 · 已驳回 1 · 已选 0")

    # The approved goods are public; the rejected one tells its seller why.
    for goods_id in (first, third, fourth):
        assert live_server.call("GET", f"/goods/{goods_id}")["status"] == "listed"
    rejected = live_server.call("GET", f"/goods/{second}", token=seller)
    assert (rejected["status"], rejected["rejection_reason"]) == ("rejected", "图片不清晰")
    trail = live_server.call(
        "GET", f"/admin/goods/{second}/reviews", token=live_server.login("reviewer@example.com")
    )
    assert [item["decision"] for item in trail["items"]] == ["reject"]


def test_operator_pays_out_one_withdrawal_and_refuses_another(
    desktop: Any, live_server: LiveServer
) -> None:
    seller = _verified_seller(live_server)
    order_id = completed_sale(
        live_server, seller, price=1_000_00, title=f"测试结算 {uuid.uuid4().hex[:6]}"
    )
    account = live_server.call(
        "POST",
        "/wallet/payout-accounts",
        token=seller,
        json={"kind": "alipay", "holder_name": "李四", "number": "13900139000"},
    )
    paid, refused = (
        live_server.call(
            "POST",
            "/withdrawals",
            token=seller,
            json={"payout_account_id": account["id"], "amount": amount},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )["id"]
        for amount in (300_00, 200_00)
    )

    _sign_in_admin(desktop, live_server, "operator@example.com", "/withdrawals")
    row = desktop.get_by_role("row").filter(has_text=f"#{paid}").filter(has_text="¥300")
    expect(row).to_contain_text("支付宝 · 李四 · 139****9000")
    assert "13900139000" not in desktop.content()
    screenshot(desktop, "admin-withdrawals")
    desktop.get_by_role("button", name=f"打款 #{paid}", exact=True).click()
    desktop.get_by_label("转账流水号").fill("ALI20261207001")
    desktop.get_by_role("button", name="标记为已打款").click()
    expect(desktop.get_by_role("button", name=f"打款 #{paid}", exact=True)).to_have_count(0)

    desktop.get_by_role("button", name=f"驳回 #{refused}", exact=True).click()
    desktop.get_by_label("驳回原因（用户可见）").fill("收款账户户名与实名不符")
    desktop.get_by_role("button", name="确定").click()
    expect(desktop.get_by_role("button", name=f"驳回 #{refused}", exact=True)).to_have_count(0)

    desktop.get_by_label("提现状态").select_option("paid")
    expect(desktop.get_by_role("row").filter(has_text=f"#{paid}")).to_contain_text("ALI20261207001")

    mine = {
        item["id"]: item for item in live_server.call("GET", "/withdrawals", token=seller)["items"]
    }
    assert (mine[paid]["status"], mine[paid]["transfer_reference"]) == ("paid", "ALI20261207001")
    assert (mine[refused]["status"], mine[refused]["rejection_reason"]) == (
        "rejected",
        "收款账户户名与实名不符",
    )

    # The order behind the money: its page tells the whole story.
    seller_id = live_server.call("GET", "/me", token=seller)["id"]
    desktop.goto(f"{live_server.url}/admin#/orders?seller_id={seller_id}")
    expect(desktop.get_by_role("link", name=f"#{order_id}")).to_be_visible()
    screenshot(desktop, "admin-orders")
    desktop.get_by_role("link", name=f"#{order_id}").click()
    timeline = desktop.get_by_role("region", name="订单时间线")
    for step in ("已付款（待卖家视频）", "已发货", "已完成"):
        expect(timeline.get_by_text(step, exact=True)).to_be_visible()
    expect(desktop.get_by_role("region", name="订单信息")).to_contain_text("¥1000")


def test_operator_settles_a_dispute_with_a_partial_refund(
    desktop: Any, live_server: LiveServer
) -> None:
    seller = _verified_seller(live_server)
    goods_id = listed_goods(
        live_server, seller, title=f"纠纷耳机 {uuid.uuid4().hex[:6]}", price=300_00
    )
    order_id, buyer = paid_order(live_server, goods_id)
    live_server.call(
        "POST", f"/orders/{order_id}/dispute", token=buyer, json={"reason": "卖家迟迟不上传视频"}
    )

    _sign_in_admin(desktop, live_server, "operator@example.com", "/disputes")
    expect(desktop.get_by_role("row").filter(has_text=f"#{order_id}")).to_contain_text(
        "卖家迟迟不上传视频"
    )
    desktop.get_by_role("button", name=f"处理订单 #{order_id} 的纠纷").click()
    desktop.get_by_label("处理结果").select_option("refund_partial")
    desktop.get_by_label("部分退款金额（元，仅部分退款时填写）").fill("50")
    desktop.get_by_label("处理说明").fill("双方协商，退还 50 元")
    desktop.get_by_role("button", name="确认处理").click()
    expect(desktop.get_by_role("row").filter(has_text=f"#{order_id}")).to_have_count(0)

    order = live_server.call("GET", f"/orders/{order_id}", token=buyer)
    assert order["dispute"]["outcome"] == "refund_partial"
    assert order["dispute"]["refund_amount"] == 50_00
    assert order["dispute"]["resolution_note"] == "双方协商，退还 50 元"


def test_admin_tunes_commission_ranking_banners_and_watches_search(
    desktop: Any, live_server: LiveServer
) -> None:
    admin = live_server.login("admin@example.com")
    before = live_server.call("GET", "/admin/commission", token=admin)["rate_bp"]
    try:
        _sign_in_admin(desktop, live_server, "admin@example.com", "/commission")
        desktop.get_by_label("新的佣金比例（%）").fill("5.5")
        desktop.get_by_role("button", name="保存").click()
        expect(desktop.get_by_text("当前佣金比例：5.50%")).to_be_visible()
        assert live_server.call("GET", "/admin/commission", token=admin)["rate_bp"] == 550
    finally:
        live_server.call("PUT", "/admin/commission", token=admin, json={"rate_bp": before})

    # Ranking: a bad value is refused with the field named; the current one republished.
    desktop.goto(live_server.url + "/admin#/ranking")
    editor = desktop.get_by_label("配置 JSON")
    expect(editor).to_have_value(re.compile("hot_weight"))
    current = editor.input_value()
    editor.fill('{"hot_weight": -1}')
    desktop.get_by_role("button", name="发布新版本").click()
    expect(desktop.get_by_role("alert")).to_contain_text("hot_weight")
    editor.fill(current)
    desktop.get_by_label("发布说明").fill("网页测试：原样重新发布")
    desktop.get_by_role("button", name="发布新版本").click()
    published = desktop.get_by_role("status").filter(has_text=re.compile(r"已发布第 \d+ 版"))
    expect(published).to_be_visible()
    newest = live_server.call("GET", "/admin/ranking/configs", token=admin)["items"][0]
    expect(published).to_contain_text(f"已发布第 {newest['version']} 版")
    assert newest["note"] == "网页测试：原样重新发布"

    # A banner goes on the home page, and comes off it again.
    title = f"测试活动 {uuid.uuid4().hex[:6]}"
    desktop.goto(live_server.url + "/admin#/banners")
    desktop.get_by_role("button", name="新增轮播图").click()
    desktop.get_by_label("标题").fill(title)
    desktop.get_by_label("图片地址").fill(
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
    )
    desktop.get_by_label("跳转链接").fill("#/search?q=台灯")
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.get_by_role("alert")).to_contain_text("须为站内路径")
    desktop.get_by_label("跳转链接").fill("/#/search?q=台灯")
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.get_by_role("row").filter(has_text=title)).to_be_visible()
    home = live_server.call("GET", "/feed/home")
    assert title in [banner["title"] for banner in home["banners"]]
    desktop.get_by_role("button", name=f"删除 {title}").click()
    desktop.get_by_role("button", name="确定").click()
    expect(desktop.get_by_role("row").filter(has_text=title)).to_have_count(0)

    # Search health, and a reconcile run from the page.
    desktop.goto(live_server.url + "/admin#/search")
    stats = desktop.get_by_role("definition").filter(has_text="正常")
    expect(stats.first).to_be_visible()
    expect(desktop.get_by_text("已索引文档")).to_be_visible()
    desktop.get_by_role("button", name="对账修复").click()
    # A full comparison of the index with the catalog takes a while.
    expect(desktop.get_by_role("status").filter(has_text="对账完成").first).to_be_visible(
        timeout=30_000
    )
    expect(desktop.get_by_role("button", name="对账修复")).to_be_enabled()
    expect(desktop.get_by_role("region", name="搁置文档")).to_be_visible()
    screenshot(desktop, "admin-search")


def test_admin_finds_a_user_and_suspends_them(desktop: Any, live_server: LiveServer) -> None:
    email, _, token = live_server.register("待封禁用户")
    _sign_in_admin(desktop, live_server, "admin@example.com", "/users")
    desktop.get_by_label("搜索用户").fill(email)
    desktop.get_by_role("button", name="搜索").click()
    row = desktop.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("正常")
    row.get_by_role("button", name="封禁").click()
    desktop.get_by_role("button", name="确定").click()
    expect(desktop.get_by_role("row").filter(has_text=email)).to_contain_text("已封禁")
    with live_server.http(token) as http:
        assert http.get("/api/v1/me").status_code == 401


def test_operator_approves_a_verification_and_admin_sees_the_category_tree(
    desktop: Any, live_server: LiveServer
) -> None:
    _, _, token = live_server.register("待认证用户")
    first17 = "33010619850615" + f"{random.randint(100, 999)}"
    verification = live_server.call(
        "POST",
        "/me/verification",
        token=token,
        json={"real_name": "王五", "id_number": first17 + check_digit(first17)},
    )
    _sign_in_admin(desktop, live_server, "operator@example.com", "/verifications")
    row = desktop.get_by_role("row").filter(has_text=f"#{verification['id']}")
    expect(row).to_contain_text("王五")
    expect(row).to_contain_text("*" * 11)
    row.get_by_role("button", name="通过 王五").click()
    expect(desktop.get_by_role("row").filter(has_text=f"#{verification['id']}")).to_have_count(0)
    assert live_server.call("GET", "/me", token=token)["verified"] is True

    _sign_in_admin(desktop, live_server, "admin@example.com", "/categories")
    tree = desktop.get_by_role("list", name="类目树")
    expect(tree.get_by_text("苹果手机", exact=True)).to_be_visible()
    expect(tree.get_by_role("button", name="在 手机 下新增子类目")).to_be_visible()
    screenshot(desktop, "admin-categories")
