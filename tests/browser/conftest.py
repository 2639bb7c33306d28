"""Fixtures for the browser tests: a real Yizhan server on port 0 over a temporary data directory (running on its
own event loop in a thread, since Playwright's sync API blocks), Debian's Chromium driven by Playwright, and a new
browser context and page for every test.

- One server and one browser for the whole package (`scope="package"`: both are closed when the package's tests
  end, so the rest of the suite runs without them). Tests keep apart by creating their own accounts
  (`site.new_account`), never by sharing one.
- Chromium is Debian's (/usr/bin/chromium, installed by .ci/run); Playwright never downloads a browser. Without it
  the tests are skipped with that reason, and only then.
- The network stays on 127.0.0.0/8: background networking of Chromium is switched off, DNS and the outbound queue
  of the server point at closed ports on 127.0.0.1.
- Screenshots go to the artefacts directory (`$YIZHAN_ARTIFACTS`, else `artifacts/` at the repository root):
  `screenshots/<test>-failed.png` for every failing test, and the named pages of test_screenshots.py.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import socket
import threading
from collections.abc import Coroutine, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, expect, sync_playwright

from tests.conftest import make_settings
from yizhan.app.server import Server
from yizhan.config.paths import DataPaths

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOMAIN = "example.com"
ADMIN = "root@example.com"
ADMIN_PASSWORD = "root password 1"
PASSWORD = "correct horse 1"
REPO = Path(__file__).resolve().parents[2]
# Timeouts of Playwright's waits (ms): generous for a loaded 2-core machine, short enough to fail quickly.
TIMEOUT_MS = 15_000

expect.set_options(timeout=TIMEOUT_MS)


def artifacts_dir() -> Path:
    """Where screenshots go: $YIZHAN_ARTIFACTS, else artifacts/ at the repository root (git-ignored)."""
    configured = os.environ.get("YIZHAN_ARTIFACTS")
    return Path(configured) if configured else REPO / "artifacts"


def screenshots_dir() -> Path:
    path = artifacts_dir() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Site:
    """The running server, seen from the test thread: its base URL and a way to call its services."""

    base: str
    server: Server
    loop: asyncio.AbstractEventLoop
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def services(self) -> Any:
        assert self.server.services is not None
        return self.server.services

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's event loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def new_account(self, name: str, password: str = PASSWORD, role: str = "user", display_name: str = "") -> str:
        """A fresh account (name-<n>@example.com), so tests sharing the server never see each other's mail."""
        address = f"{name}-{next(self.counter)}@{DOMAIN}"
        self.run(self.services.directory.add_account(address, password, role=role, display_name=display_name))
        return address

    def deliver(self, raw: bytes, to: str, sender: str = "bob@example.org") -> None:
        """Deliver a message the way SMTP would (durable when this returns)."""
        self.run(self.services.delivery.deliver(raw, sender, [to]))

    def folder_id(self, address: str, name: str) -> int:
        async def find() -> int:
            account = await self.services.directory.account(address)
            for folder in await self.services.mailbox.folders(account.id):
                if folder.name == name:
                    return int(folder.id)
            raise LookupError(name)

        return self.run(find())


@pytest.fixture(scope="package", autouse=True)
def chromium_present() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_present: None) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"] = (asyncio.get_running_loop(), stop)
        settings = make_settings(
            auth={"failure_delay": 0, "max_failures_per_account": 20, "max_failures_per_ip": 1000},
            dns={"nameservers": ["127.0.0.1:9"], "timeout": 0.5},
            queue={"smarthost": "127.0.0.1", "smarthost_port": closed_port(), "smarthost_tls": "none",
                   "connect_timeout": 1})
        server = Server(settings, DataPaths(data_dir))
        try:
            await server.start()
            assert server.services is not None
            await server.services.directory.add_domain(DOMAIN)
            await server.services.directory.add_account(ADMIN, ADMIN_PASSWORD, role="admin")
            box["site"] = Site(f"http://127.0.0.1:{server.port('http')}", server, asyncio.get_running_loop())
            ready.set()
            await stop.wait()
        except BaseException as exc:
            box["error"] = exc
            raise
        finally:
            ready.set()
            await server.stop()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="browser-server", daemon=True)
    thread.start()
    ready.wait(120)
    if "site" not in box:
        raise RuntimeError(f"the server did not start: {box.get('error')!r}")
    try:
        yield box["site"]
    finally:
        loop, stop = box["stop"]
        loop.call_soon_threadsafe(stop.set)
        thread.join(60)


@pytest.fixture(scope="package")
def playwright(chromium_present: None) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield launched
    finally:
        launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Keep each phase's report on the test item, so the page fixture knows whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def new_context(browser: Browser, site: Site, **options: Any) -> BrowserContext:
    settings: dict[str, Any] = {"base_url": site.base, "locale": "en-US", "timezone_id": "Asia/Shanghai",
                                "accept_downloads": True, "viewport": {"width": 1280, "height": 800}}
    settings.update(options)
    context = browser.new_context(**settings)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    made = new_context(browser, site)
    try:
        yield made
    finally:
        made.close()


@dataclass
class Problems:
    """What went wrong inside the pages of a test: uncaught script errors, console errors (a CSP violation of our
    own pages is one) and answers of the server with a 5xx status. Answers with a 4xx status are left to the
    tests (a refused sign-in is a 401 on purpose), and so are the console lines Chromium logs for them."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.messages.append(f"script error on {page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("response", lambda response: self.messages.append(
            f"{response.status} answer to {response.request.method} {response.url}")
                if response.status >= 500 else None)

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.messages.append(f"console error on {page.url}: {message.text} ({message.location.get('url', '')})")


@pytest.fixture
def problems(context: BrowserContext) -> Iterator[Problems]:
    """Script and console errors of every page of the test's context; the test fails if there are any (a test
    that expects some takes them out of `problems.messages`)."""
    found = Problems()
    context.on("page", found.watch)
    yield found
    assert not found.messages, "errors in the browser:\n" + "\n".join(found.messages)


def save_screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    path = screenshots_dir() / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def page(context: BrowserContext, problems: Problems, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of the test's own context; a screenshot of it is saved when the test fails."""
    opened = context.new_page()
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not opened.is_closed():
        try:
            save_screenshot(opened, f"{request.node.name}-failed")
        except Exception as exc:  # A screenshot is a help; its failure must not hide the test's own.
            print(f"no failure screenshot: {exc!r}")


def sign_in(page: Page, address: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page, as a user would, and wait for the mail page."""
    page.goto("/signin")
    page.fill("#address", address)
    page.fill("#password", password)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url(re.compile(r"/mail"))


def sign_out(page: Page) -> None:
    page.click("header .account form button[type=submit]")
    page.wait_for_url(re.compile(r"/signin"))
