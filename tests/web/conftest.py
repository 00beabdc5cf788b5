"""The web client in a real browser: one live server on the embedded default (the demo,
seeded by our own generator) for the whole session, and Debian's Chromium driven by
Playwright. Without /usr/bin/chromium these tests skip, unless REQUIRE_BROWSER=1 (CI).

Screenshots go to $TEST_ARTIFACTS (default ./test-artifacts): `screens/` holds each main
page at phone size, `failures/` the page as it was when a step failed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.servers import free_port, stop, wait_until_up
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS

PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 800}
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts")).resolve()
DEMO_PASSWORDS = {
    "shopper@example.com": "shopper-demo-123",
    "seller@example.com": "seller-demo-123",
    "reviewer@example.com": "reviewer-demo-123",
    "operator@example.com": "operator-demo-123",
    "admin@example.com": "admin-demo-123",
}


def _required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "") not in ("", "0", "false")


@dataclass
class LiveServer:
    """The running platform, and a plain HTTP client for arranging what a test needs."""

    url: str
    home: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def http(self, token: str | None = None) -> httpx2.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.Client(base_url=self.url, headers=headers, timeout=20)

    def login(self, email: str, password: str | None = None) -> str:
        """A bearer token for an account (demo accounts need no password here)."""
        if email not in self.tokens:
            with self.http() as http:
                answer = http.post(
                    "/api/v1/auth/login",
                    json={"email": email, "password": password or DEMO_PASSWORDS[email]},
                )
                assert answer.status_code == 200, answer.text
                self.tokens[email] = answer.json()["token"]
        return self.tokens[email]

    def call(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        """One API call that must succeed; returns the JSON answer (None for 204)."""
        with self.http(token) as http:
            answer = http.request(method, f"/api/v1{path}", **kwargs)
        assert answer.status_code < 400, f"{method} {path}: {answer.status_code} {answer.text}"
        return None if answer.status_code == 204 else answer.json()

    def register(self, nickname: str = "测试用户") -> tuple[str, str, str]:
        """A fresh user: (email, password, token)."""
        email = f"web-{uuid.uuid4().hex[:10]}@example.com"
        password = "web-test-pass-1"
        answer = self.call(
            "POST",
            "/auth/register",
            json={"email": email, "password": password, "nickname": nickname},
        )
        self.tokens[email] = answer["token"]
        return email, password, answer["token"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("web-live")
    port = free_port()
    env = {
        **os.environ,
        "IDLEMARKET_HOME": str(home),
        "PORT": str(port),
        "FIELD_ENCRYPTION_KEY": "",
        # Browser journeys register and log in many people from one address.
        "REGISTRATIONS_PER_HOUR": "10000",
        "LOGIN_ATTEMPTS_PER_WINDOW": "10000",
        "WRITES_PER_MINUTE": "10000",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "demo", "--goods", "240"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(
            f"{url}/api/v1/healthz",
            server,
            seconds=120,
            output=lambda: (home / "server.log").read_text(),
        )
        yield LiveServer(url=url, home=home)
    finally:
        stop(server, seconds=20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if _required():
            pytest.fail(f"REQUIRE_BROWSER is set but {CHROMIUM} does not exist")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class PageErrors(list[str]):
    """Uncaught errors in the page's scripts: a test fails if any happened."""


def _open(
    browser: Any, request: pytest.FixtureRequest, viewport: dict[str, int], **options: Any
) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = PageErrors()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        target = ARTIFACTS / "failures" / f"{request.node.name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        # The page may be gone; the failure itself is reported either way.
        with contextlib.suppress(Exception):
            page.screenshot(path=str(target), full_page=True)
    context.close()
    assert not errors, f"script errors in the page: {errors}"


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page at 375×667, touch, as the H5 app is used."""
    yield from _open(browser, request, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


@pytest.fixture
def desktop(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page at 1280×800, as the admin console is used."""
    yield from _open(browser, request, DESKTOP)


@pytest.fixture
def second_phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Another person's phone (the seller answering the shopper, say)."""
    yield from _open(browser, request, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


def sign_in(
    page: Any, server: LiveServer, email: str, password: str | None = None, *, path: str = "/"
) -> None:
    """Open the app as a logged-in user (the login form itself is tested on its own)."""
    token = server.login(email, password)
    with server.http(token) as http:
        user = http.get("/api/v1/me").json()
    page.goto(f"{server.url}/static/h5/index.html#/__none")
    page.evaluate(
        "([token, user]) => { localStorage.setItem('idlemarket.token', token);"
        " localStorage.setItem('idlemarket.user', JSON.stringify(user)); }",
        [token, user],
    )
    page.goto(f"{server.url}{path}")


def screenshot(page: Any, name: str) -> Path:
    """Save the page as a test artifact (`screens/NAME.png`)."""
    target = ARTIFACTS / "screens" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=False)
    return target
