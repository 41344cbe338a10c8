"""Plumbing for the browser tests: a live server, Chromium, pages that watch the network.

- `browser`: one headless Chromium for the whole test session (Debian's /usr/bin/chromium;
  never downloaded). A missing Chromium FAILS the tests: in CI they must run.
- `live_server`: the real app (`committed_app`, whose requests commit for real) served by
  werkzeug in a background thread on 127.0.0.1 and a free port; shut down afterwards.
- `seeded`: a context manager giving `Factories` on a real session, committed at the end,
  so the server thread sees the data.
- `browse`: a fresh browser context and page on the live server that records every request
  and every console error. At teardown it fails the test when a request went to another
  host (every asset must be local) or the console reported a Content Security Policy
  violation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

from essays.platform.db import database
from tests.factories import PASSWORD, Factories

CHROMIUM = os.environ.get("ZHENGWEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need it and must not be "
                    "skipped. Install Debian's package (apt-get install chromium) or set "
                    "ZHENGWEN_CHROMIUM to its path; do not run `playwright install`.", pytrace=False)
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as e:  # an unusable binary must fail loudly too
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {e}", pytrace=False)
        yield chromium
        chromium.close()


@dataclass
class LiveServer:
    app: Flask
    url: str

    def session(self):
        """A new database session on the app's engine (sees what the server committed)."""
        return database(self.app).sessionmaker()


@pytest.fixture
def live_server(engine, committed_app) -> Iterator[LiveServer]:
    # `engine` migrates the test database; committed_app alone would not.
    server = make_server("127.0.0.1", 0, committed_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(committed_app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def seeded(live_server):
    """`with seeded() as make:` builds data with the factories and commits it for real."""

    @contextmanager
    def _seeded():
        with live_server.app.app_context():
            session = live_server.session()
            try:
                yield Factories(session)
                session.commit()
            finally:
                session.close()

    return _seeded


@dataclass
class Browse:
    """A page on the live server plus what it asked the network for and complained about."""

    page: Page
    base_url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests
                if not (u.startswith(self.base_url + "/") or u == self.base_url
                        or u.startswith(("data:", "about:")))]

    def csp_errors(self) -> list[str]:
        return [m for m in self.console_errors if "Content Security Policy" in m]

    def login(self, username: str, password: str = PASSWORD) -> Page:
        """Logs in through the real form and waits for the answer page."""
        page = self.page
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.get_by_role("button", name="登录", exact=True).click()
        return page

    def logout(self) -> Page:
        """Logs out with the topbar's 退出登录 button; checks we are back on the login page."""
        page = self.page
        page.get_by_role("button", name="退出登录").click()
        expect(page).to_have_url(self.base_url + "/login")
        expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
        return page

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def open_page(browser, live_server: LiveServer, viewport=DESKTOP, **options) -> tuple[BrowserContext, Browse]:
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = Browse(page, live_server.url)
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("console", lambda msg: watch.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: watch.console_errors.append(f"pageerror: {error}"))
    return context, watch


def check_clean(watch: Browse) -> None:
    foreign = watch.foreign_requests()
    assert not foreign, f"requests left the app ({watch.base_url}): {foreign}"
    csp = watch.csp_errors()
    assert not csp, f"Content Security Policy violations in the console: {csp}"


@pytest.fixture
def browse(browser, live_server) -> Iterator[Browse]:
    """A desktop-sized page; fails at teardown on foreign requests or CSP errors."""
    context, watch = open_page(browser, live_server)
    try:
        yield watch
        check_clean(watch)
    finally:
        context.close()


@pytest.fixture
def tablet(browser, live_server) -> Iterator[Browse]:
    """A tablet held upright (768x1024, touch); same checks as `browse`."""
    context, watch = open_page(browser, live_server, viewport=TABLET, has_touch=True)
    try:
        yield watch
        check_clean(watch)
    finally:
        context.close()


@pytest.fixture
def phone(browser, live_server) -> Iterator[Browse]:
    """A phone-sized page (390x844, touch); same checks as `browse`."""
    context, watch = open_page(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True,
                               device_scale_factor=2)
    try:
        yield watch
        check_clean(watch)
    finally:
        context.close()
