"""The two shells: served by the API process, routed in the browser, fast to show."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_the_h5_app_is_served_with_its_tab_bar(phone: Any, live_server: LiveServer) -> None:
    phone.goto(live_server.url + "/")
    tabs = phone.get_by_role("navigation", name="主导航")
    labels = [text.split()[-1] for text in tabs.locator("a").all_inner_texts()]
    assert labels == ["首页", "分类", "发布", "消息", "我的"]
    phone.get_by_role("link", name="分类").click()
    # Once its categories are in, the page notes the chosen one in the address (?c=...).
    # Both change as the router renders, after the click returns: wait for them.
    expect(phone).to_have_url(re.compile(r"#/categories(\?c=\d+)?$"))
    expect(tabs.get_by_role("link", name="分类")).to_have_attribute("aria-current", "page")


def test_an_unknown_address_says_so(phone: Any, live_server: LiveServer) -> None:
    phone.goto(live_server.url + "/#/no-such-page")
    assert phone.get_by_text("页面不存在").first.is_visible()


def test_pages_that_need_a_login_send_visitors_to_it(phone: Any, live_server: LiveServer) -> None:
    phone.goto(live_server.url + "/#/wallet")
    phone.wait_for_url("**/#/login?next=%2Fwallet")


def test_the_admin_console_asks_staff_to_log_in(desktop: Any, live_server: LiveServer) -> None:
    desktop.goto(live_server.url + "/admin")
    desktop.wait_for_url("**/admin#/login")


def test_static_modules_are_revalidated_not_refetched(live_server: LiveServer) -> None:
    with live_server.http() as http:
        first = http.get("/static/shared/api.js")
        assert first.headers["cache-control"] == "no-cache"
        again = http.get("/static/shared/api.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
