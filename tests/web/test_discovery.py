"""Discovery in the H5 app: the home feed, categories, search, goods detail, login."""

from __future__ import annotations

import json
import random
import re
import string
import time
import uuid
from typing import Any

import pytest

from tests.web.arrange import listed_goods, wait_searchable
from tests.web.conftest import DEMO_PASSWORDS, LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser

# A page function: the search results' goods ids, in order, are exactly `ids`.
RESULT_IDS_ARE = (
    "ids => [...document.querySelectorAll('[aria-label=搜索结果] [data-goods-id]')]"
    ".map(c => c.dataset.goodsId).join() === ids.join()"
)


@pytest.fixture(scope="module")
def brand(live_server: LiveServer) -> dict[str, Any]:
    """Three goods of a made-up brand, from one new seller: two 95新, one 全新."""
    # Letters only: digits in the word could match a model number in the seeded catalog.
    word = "Zorb" + "".join(random.choices(string.ascii_lowercase, k=6))
    _email, _password, token = live_server.register("阿飞的闲置")
    ids = [
        listed_goods(
            live_server,
            token,
            title=f"{word} 蓝牙耳机 白色",
            price=19900,
            condition="95新",
            photos=3,
            category_id=17,
        ),
        listed_goods(
            live_server,
            token,
            title=f"{word} 蓝牙耳机 黑色",
            price=9900,
            condition="95新",
            city="苏州",
            category_id=17,
        ),
        listed_goods(
            live_server,
            token,
            title=f"{word} 降噪耳机 全新未拆",
            price=59900,
            condition="全新",
            category_id=17,
        ),
    ]
    goods = [live_server.call("GET", f"/goods/{goods_id}") for goods_id in ids]
    wait_searchable(live_server, word, 3)
    return {"word": word, "token": token, "goods": goods}


def test_home_shows_banners_categories_hot_new_and_an_endless_feed(
    phone: Any, live_server: LiveServer
) -> None:
    operator = live_server.login("admin@example.com")
    title = f"年末清仓节 {uuid.uuid4().hex[:4]}"
    live_server.call(
        "POST",
        "/admin/banners",
        token=operator,
        json={
            "title": title,
            "image": "/media/no-such-banner.jpg",
            "link": "/search?q=iphone",
            "position": -1,
        },
    )
    # A few clicks make goods hot.
    newest = live_server.call("GET", "/feed/home")["new"]
    events = [
        {"type": "click", "goods_id": item["id"], "device_id": f"hot-{n}"}
        for item in newest[:3]
        for n in range(3)
    ]
    live_server.call("POST", "/events", json={"events": events})
    time.sleep(3.2)  # the home page is cached for three seconds

    phone.goto(live_server.url + "/#/")
    phone.get_by_role("link", name=title.split()[0], exact=False).first.wait_for()
    assert phone.get_by_role("navigation", name="分类").get_by_role("link").count() >= 10
    assert (
        phone.get_by_role("navigation", name="分类").get_by_role("link", name="手机").is_visible()
    )
    hot = phone.get_by_role("list", name="热门")
    hot.locator("[data-goods-id]").first.wait_for()
    assert phone.get_by_role("list", name="新发布").locator("[data-goods-id]").count() == len(
        newest
    )
    screenshot(phone, "h5-home")

    feed = phone.get_by_role("list", name="猜你喜欢")
    with phone.expect_request(
        lambda r: r.url.endswith("/api/v1/events") and r.method == "POST"
    ) as sent:
        phone.mouse.wheel(0, 4000)
        feed.locator("[data-goods-id]").first.wait_for()
        first_page = feed.locator("[data-goods-id]").count()
        phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    payload = json.loads(sent.value.post_data or "{}")
    impressions = [e for e in payload["events"] if e["type"] == "impression"]
    assert impressions
    assert all(e["request_id"] and "ranker_version" in e for e in impressions)
    assert {e["surface"] for e in impressions} <= {"home_hot", "home_new", "for_you"}

    for _ in range(10):
        phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        phone.wait_for_timeout(250)
        if feed.locator("[data-goods-id]").count() > first_page:
            break
    assert feed.locator("[data-goods-id]").count() > first_page
    ids = feed.locator("[data-goods-id]").evaluate_all("cards => cards.map(c => c.dataset.goodsId)")
    assert len(ids) == len(set(ids)), "the feed repeated goods"

    # The banner link goes where it says.
    phone.evaluate("window.scrollTo(0, 0)")
    phone.get_by_role("link", name=title, exact=False).first.click()
    phone.wait_for_url("**/#/search?q=iphone")


def test_categories_tab_lists_children_and_searches_in_one(
    phone: Any, live_server: LiveServer
) -> None:
    phone.goto(live_server.url + "/#/categories")
    side = phone.get_by_role("navigation", name="一级分类")
    side.get_by_role("button", name="数码").click()
    children = phone.get_by_role("list", name="数码的子分类")
    assert children.get_by_role("link").count() > 3
    screenshot(phone, "h5-categories")
    child = children.get_by_role("link").first
    name = child.locator("span").last.inner_text().strip()
    child.click()
    phone.wait_for_url("**/#/search?category=*")
    phone.get_by_role("button", name="筛选(1)").click()
    assert phone.get_by_role("radio", name=name).is_checked()


def test_search_finds_typos_filters_by_facets_sorts_and_keeps_it_in_the_address(
    phone: Any, live_server: LiveServer, brand: dict[str, Any]
) -> None:
    phone.goto(live_server.url + "/#/search")
    box = phone.get_by_role("combobox", name="搜索关键词")
    # Suggestions while typing, chosen with the keyboard.
    box.press_sequentially("iph", delay=40)
    options = phone.get_by_role("listbox", name="搜索建议").get_by_role("option")
    options.filter(has_text="iphone").first.wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    phone.wait_for_url("**/#/search?q=*")

    # A typo still finds iPhones, the matched words marked.
    box.fill("iphnoe")
    box.press("Enter")
    phone.wait_for_url("**/#/search?q=iphnoe")
    results = phone.get_by_role("list", name="搜索结果")
    results.locator("mark").first.wait_for()
    assert results.locator("mark").first.inner_text().lower() == "iphone"

    word = brand["word"]
    box.fill(word)
    box.press("Enter")
    summary = phone.get_by_role("status").filter(has_text="件宝贝")
    summary.filter(has_text="共 3 件").wait_for()

    phone.get_by_role("button", name="筛选").click()
    filters = phone.get_by_role("region", name="筛选条件")
    # Each choice says how many goods it has: 全新 1, 95新 2.
    assert filters.get_by_role("checkbox", name=re.compile(r"^95新\s*2$")).count() == 1
    assert filters.get_by_role("checkbox", name=re.compile(r"^全新\s*1$")).count() == 1
    filters.get_by_role("checkbox", name="95新").check()
    summary.filter(has_text="共 2 件").wait_for()
    # Disjunctive counts: the other condition still says how many it would add.
    assert filters.get_by_role("checkbox", name=re.compile(r"^全新\s*1$")).count() == 1
    assert filters.get_by_role("checkbox", name="95新").is_checked()

    phone.get_by_role("button", name="价格↑").click()
    phone.wait_for_url("**sort=price_asc**")
    results.locator("[data-goods-id]").nth(1).wait_for()
    expect_ids = [str(brand["goods"][1]["id"]), str(brand["goods"][0]["id"])]
    phone.wait_for_function(
        RESULT_IDS_ARE,
        arg=expect_ids,
    )
    phone.get_by_role("button", name="价格↓").click()
    phone.wait_for_function(
        RESULT_IDS_ARE,
        arg=list(reversed(expect_ids)),
    )
    # A price range typed in yuan (the cheaper one is ¥99, the dearer ¥199).
    filters.get_by_label("最高价（元）").fill("150")
    filters.get_by_role("button", name="确定").click()
    summary.filter(has_text="共 1 件").wait_for()
    assert "price_max=15000" in phone.url
    screenshot(phone, "h5-search")

    # Reload keeps the query, the filters and the sort; back undoes the last choice.
    phone.reload()
    summary.filter(has_text="共 1 件").wait_for()
    assert phone.get_by_role("button", name="价格↓").get_attribute("aria-pressed") == "true"
    assert box.input_value() == word
    phone.go_back()
    phone.wait_for_url("**sort=price_desc**")
    summary.filter(has_text="共 2 件").wait_for()
    assert "price_max" not in phone.url


def test_search_with_nothing_found_suggests_what_to_do(
    phone: Any, live_server: LiveServer, brand: dict[str, Any]
) -> None:
    phone.goto(live_server.url + f"/#/search?q={brand['word']}&condition=7成新及以下")
    phone.get_by_text("没有符合条件的宝贝").wait_for()
    phone.get_by_role("list", name="大家都在看").locator("[data-goods-id]").first.wait_for()
    phone.get_by_role("button", name="清除筛选条件").click()
    phone.get_by_role("status").filter(has_text="共 3 件").wait_for()

    phone.goto(live_server.url + "/#/search?q=qxzqxzqxz")
    phone.get_by_text("没有找到“qxzqxzqxz”相关的宝贝").wait_for()


def test_goods_detail_shows_gallery_seller_similar_and_sends_visitors_to_log_in(
    phone: Any, live_server: LiveServer, brand: dict[str, Any]
) -> None:
    goods = brand["goods"][0]
    phone.goto(live_server.url + f"/#/goods/{goods['id']}")
    phone.get_by_role("heading", name=goods["title"]).wait_for()
    assert phone.get_by_text("1/3").is_visible()
    assert phone.get_by_text("¥199", exact=True).is_visible()
    assert phone.get_by_text("原价 ¥398").is_visible()
    seller = phone.get_by_role("region", name="卖家")
    assert "阿飞的闲置" in seller.inner_text()
    assert "已卖出 0 件" in seller.inner_text()
    similar = phone.get_by_role("list", name="看了又看")
    similar.locator("[data-goods-id]").first.wait_for()
    screenshot(phone, "h5-goods")
    # Swiping the gallery moves the counter.
    phone.get_by_label("宝贝图片，共3张").evaluate(
        "track => track.scrollTo({left: track.clientWidth})"
    )
    phone.get_by_text("2/3").wait_for()

    phone.get_by_role("button", name="聊一聊").click()
    phone.wait_for_url(f"**/#/login?next=%2Fgoods%2F{goods['id']}")


def test_buying_from_the_detail_page_and_ones_own_goods(
    phone: Any, live_server: LiveServer, brand: dict[str, Any]
) -> None:
    goods = brand["goods"][2]
    email, password, token = live_server.register("买家小王")
    sign_in(phone, live_server, email, password, path=f"/#/goods/{goods['id']}")
    phone.get_by_role("button", name="立即购买").click()
    phone.wait_for_url("**/#/orders/*")
    order = live_server.call("GET", f"/orders/{phone.url.rsplit('/', 1)[1]}", token=token)
    assert order["goods_id"] == goods["id"]

    # Now reserved: the page says so and nothing can be bought.
    phone.goto(live_server.url + f"/#/goods/{brand['goods'][1]['id']}")
    phone.get_by_role("button", name="聊一聊").wait_for()
    phone.goto(live_server.url + f"/#/goods/{goods['id']}")
    phone.get_by_text("已被拍下").first.wait_for()
    assert phone.get_by_role("button", name="聊一聊").is_disabled()

    seller_email = live_server.call("GET", "/me", token=brand["token"])["email"]
    live_server.tokens.setdefault(seller_email, brand["token"])
    sign_in(phone, live_server, seller_email, path=f"/#/goods/{brand['goods'][1]['id']}")
    phone.get_by_text("这是你发布的").wait_for()
    assert phone.get_by_role("button", name="立即购买").count() == 0


def test_login_and_register_forms(phone: Any, live_server: LiveServer) -> None:
    phone.goto(live_server.url + "/#/login?next=%2Fsearch%3Fq%3Dshouji")
    login = phone.get_by_role("form", name="登录")
    login.get_by_label("手机号或邮箱").fill("shopper@example.com")
    login.get_by_label("密码").fill("not-the-password")
    login.get_by_role("button", name="登录").click()
    phone.get_by_role("alert").filter(has_text="账号或密码错误").wait_for()
    screenshot(phone, "h5-login")
    login.get_by_label("密码").fill(DEMO_PASSWORDS["shopper@example.com"])
    login.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/#/search?q=shouji")
    assert (
        phone.evaluate("JSON.parse(localStorage.getItem('idlemarket.user')).email")
        == "shopper@example.com"
    )

    phone.evaluate("localStorage.clear()")
    phone.goto(live_server.url + "/#/login")
    phone.get_by_role("tab", name="注册").click()
    register = phone.get_by_role("form", name="注册")
    register.get_by_label("手机号或邮箱").fill("shopper@example.com")
    register.get_by_label("设置密码").fill("short")
    register.get_by_label("昵称").fill("新朋友")
    register.get_by_role("button", name="注册并登录").click()
    register.get_by_text("密码至少 8 位").wait_for()
    register.get_by_label("设置密码").fill("long-enough-1")
    register.get_by_role("button", name="注册并登录").click()
    register.get_by_text("该手机号或邮箱已注册").first.wait_for()

    phone_number = "139" + str(uuid.uuid4().int)[:8]
    register.get_by_label("手机号或邮箱").fill(phone_number)
    register.get_by_role("button", name="注册并登录").click()
    phone.wait_for_url("**/#/me")
    assert (
        phone.evaluate("JSON.parse(localStorage.getItem('idlemarket.user')).nickname") == "新朋友"
    )
