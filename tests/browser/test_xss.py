"""Story 8: hostile HTML mail in the real browser. Every vector of tests/mail/xss_corpus.py arrives as the HTML part
of its own message and is rendered by Chromium three ways:

1. the reading page as a user opens it (the body in its sandboxed frame, under the page's CSP);
2. the body URL opened on its own, with the headers the server sends (its CSP, including `sandbox`);
3. the body URL with the Content-Security-Policy header removed (by the test, in the browser's network layer):
   only the sanitiser stands between the mail and the browser, so this checks the sanitiser on Chromium's own
   parse of what we serve (mutation XSS shows here, not in a unit test).

Execution is detected by: a dialog (alert, confirm, prompt, print…); `alert`/`confirm`/`prompt`/`print` replaced
in every frame that runs script by a call to an exposed canary function; any console message; any request that
leaves our origin (every host the vectors name is rewritten to a canary HTTP server on 127.0.0.2, which also
records what reaches it); any frame navigating to something other than our own pages. In the third rendering the
document is also inspected after Chromium parsed it: no event-handler attribute, no script-capable element, no
`javascript:`-like or `data:` document URL may be left, and the common events are fired at every element (their
default actions cancelled) so that a surviving handler would run.

`test_the_detectors_catch_an_unsafe_page` shows that each detector fires on a page that is not sanitised, so the
corpus tests can fail.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Frame, Page, Request, Route

from tests.browser.conftest import Site, new_context, sign_in
from tests.mail.xss_corpus import VECTORS
from tests.mailfactory import make_message

CANARY_IP = "127.0.0.2"
# Every alert-like function becomes a call to the canary (in frames that run script at all).
CANARY_SCRIPT = """
for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
  try {
    window[name] = function () { window.__pwned(name + "(" + Array.from(arguments).join(",") + ")"); };
  } catch (ignored) {}
}
"""
# Run in a rendered body (third rendering): what Chromium parsed, and events fired at every element.
INSPECT_SCRIPT = """
() => {
  const found = [];
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href", "background", "poster",
                         "codebase", "dynsrc", "lowsrc", "srcdoc"];
  const dangerousTags = new Set(["script", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
                                 "form", "meta", "link", "portal", "animate", "set", "handler", "listener"]);
  const bad = /^(javascript|vbscript|livescript|data):/i;
  // The head is ours (charset, referrer policy, base target, style); the mail is the body.
  const mail = [document.body, ...document.body.querySelectorAll("*")];
  for (const element of mail) {
    const tag = element.localName.toLowerCase();
    if (dangerousTags.has(tag) && !(tag === "meta" && !element.hasAttribute("http-equiv"))) {
      found.push("element <" + tag + "> left");
    }
    for (const attribute of Array.from(element.attributes)) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on")) {
        found.push("handler attribute " + name + " on <" + tag + ">");
      }
      if (urlAttributes.includes(name) || name.endsWith(":href")) {
        let scheme = "";
        try { scheme = new URL(attribute.value, document.baseURI).protocol; } catch (ignored) {}
        const raw = attribute.value.replace(/[\\u0000-\\u0020\\u200b]/g, "");
        const image = tag === "img" && name === "src" && /^data:image\\/(png|gif|jpeg|webp);/i.test(raw);
        if (!image && (bad.test(scheme) || bad.test(raw))) {
          found.push(name + "=" + attribute.value.slice(0, 60) + " on <" + tag + ">");
        }
      }
    }
  }
  const stop = (event) => event.preventDefault();
  window.addEventListener("click", stop, true);
  window.addEventListener("submit", stop, true);
  const events = ["mouseover", "mouseenter", "mousemove", "mousedown", "mouseup", "click", "dblclick", "focus",
                  "focusin", "blur", "toggle", "load", "error", "animationstart", "transitionend", "input"];
  for (const element of mail) {
    for (const type of events) {
      try { element.dispatchEvent(new Event(type, { bubbles: true, cancelable: true })); } catch (ignored) {}
    }
  }
  return found;
}
"""


class CanaryHandler(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.server.hits.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def canary() -> Iterator[ThreadingHTTPServer]:
    """The host every vector's URLs point at: an HTTP server on 127.0.0.2 that records every request."""
    server = ThreadingHTTPServer((CANARY_IP, 0), CanaryHandler)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="xss-canary", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Corpus:
    address: str
    folder_id: int
    messages: list[tuple[str, int]]  # (vector name, uid)


@pytest.fixture(scope="module")
def corpus(site: Site, canary: ThreadingHTTPServer) -> Corpus:
    """One message per vector in a fresh account's Inbox, every named host rewritten to the canary."""
    address = site.new_account("xss")
    host = f"{CANARY_IP}:{canary.server_address[1]}"
    for index, (name, html) in enumerate(VECTORS):
        document = f"<p>vector {index}</p>" + html.replace("xss.example", host)
        site.deliver(make_message(subject=f"xss {index} {name}", to=address, html=document,
                                  body=f"vector {index}"), address)

    async def uids() -> list[int]:
        account = await site.services.directory.account(address)
        snapshot = await site.services.mailbox.open(account.id, "INBOX")
        return [entry.uid for entry in snapshot.entries]

    found = site.run(uids())
    assert len(found) == len(VECTORS)
    return Corpus(address, site.folder_id(address, "INBOX"), [(name, uid) for (name, _), uid in zip(VECTORS, found,
                                                                                                   strict=True)])


@dataclass
class Detector:
    """Everything a page of the context does that would show a vector ran or reached out."""

    base: str
    strip_csp: bool = False
    current: str = ""
    findings: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.findings.append(f"[{self.current}] {what}")

    def attach(self, context: BrowserContext, replace_dialogs: bool = True) -> None:
        context.expose_binding("__pwned", lambda source, what: self.note(
            f"canary called: {what} in {source['frame'].url}"))
        if replace_dialogs:
            context.add_init_script(CANARY_SCRIPT)
        context.route("**/*", self.route)
        context.on("page", self.watch)

    def watch(self, page: Page) -> None:
        page.on("dialog", self.dialog)
        page.on("console", lambda message: self.console(message.type, message.text))
        page.on("framenavigated", self.navigated)
        page.on("popup", lambda popup: self.note(f"popup opened: {popup.url}"))

    def console(self, kind: str, text: str) -> None:
        if not text.startswith("Failed to load resource"):
            self.note(f"console {kind}: {text[:200]}")

    def dialog(self, dialog: Dialog) -> None:
        self.note(f"dialog {dialog.type}: {dialog.message[:100]}")
        dialog.dismiss()

    def navigated(self, frame: Frame) -> None:
        url = frame.url
        if not (url.startswith(self.base + "/") or url in ("about:blank", "about:srcdoc")):
            self.note(f"frame navigated to {url[:100]}")

    def route(self, route: Route, request: Request) -> None:
        if not request.url.startswith(self.base + "/"):
            self.note(f"request left our origin: {request.method} {request.url[:100]}")
            route.abort()
            return
        if self.strip_csp and "/mail/body/" in request.url:
            response = route.fetch()
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
            route.fulfill(response=response, headers=headers)
            return
        route.continue_()


@dataclass
class Session:
    page: Page
    detector: Detector


def signed_in_session(browser: Browser, site: Site, corpus: Corpus, strip_csp: bool = False) -> Iterator[Session]:
    context = new_context(browser, site)
    detector = Detector(site.base, strip_csp)
    detector.attach(context)
    try:
        page = context.new_page()
        sign_in(page, corpus.address)
        yield Session(page, detector)
    finally:
        context.close()


@pytest.fixture
def session(browser: Browser, site: Site, corpus: Corpus) -> Iterator[Session]:
    yield from signed_in_session(browser, site, corpus)


@pytest.fixture
def bare_session(browser: Browser, site: Site, corpus: Corpus) -> Iterator[Session]:
    yield from signed_in_session(browser, site, corpus, strip_csp=True)


TABS = 4  # reading pages loading at once
BATCH = 32  # body documents framed by one host page


def no_findings(session: Session, canary: ThreadingHTTPServer) -> None:
    hits: list[str] = canary.hits  # type: ignore[attr-defined]
    problems = session.detector.findings + [f"canary server reached: {hit}" for hit in hits]
    assert not problems, f"{len(problems)} signs of execution or escape:\n" + "\n".join(problems)


def test_no_vector_runs_in_the_reading_page(session: Session, corpus: Corpus,
                                           canary: ThreadingHTTPServer) -> None:
    """Each message's reading page, as the user opens it (several tabs load at once)."""
    tabs = [session.page] + [session.page.context.new_page() for _ in range(TABS - 1)]
    numbered = list(enumerate(corpus.messages))
    for start in range(0, len(numbered), TABS):
        chunk = list(zip(tabs, numbered[start:start + TABS], strict=False))
        for tab, (_, (_, uid)) in chunk:
            tab.goto(f"/mail/read/{corpus.folder_id}/{uid}", wait_until="commit")
        for tab, (index, (name, _)) in chunk:
            session.detector.current = f"reading page, {name}"
            tab.wait_for_load_state("load")
            assert tab.get_by_test_id("subject").inner_text() == f"xss {index} {name}"
            body = tab.frame_locator("iframe[data-testid=body]").locator("body")
            assert f"vector {index}" in body.inner_text(), name
    session.page.wait_for_timeout(200)
    no_findings(session, canary)


def fulfil_html(html: str, route: Route) -> None:
    route.fulfill(body=html, content_type="text/html")


def frame_batches(session: Session, corpus: Corpus, sandbox: str | None) -> Iterator[list[tuple[int, str, Frame]]]:
    """The body documents in batches, each batch framed by one page of our origin (made up by the test, served by
    the browser's network layer): yields (index, vector name, frame) once a batch has loaded."""
    page = session.page
    base = session.detector.base
    attribute = f' sandbox="{sandbox}"' if sandbox is not None else ""
    numbered = list(enumerate(corpus.messages))
    for start in range(0, len(numbered), BATCH):
        batch = numbered[start:start + BATCH]
        frames = "".join(f'<iframe{attribute} src="/mail/body/{corpus.folder_id}/{uid}"></iframe>'
                         for _, (_, uid) in batch)
        host = f"{base}/xss-host-{start}"
        page.route(host, partial(fulfil_html, f"<!doctype html><title>{start}</title>{frames}"))
        session.detector.current = f"body documents {start}..{start + len(batch) - 1}"
        page.goto(host, wait_until="load")
        by_path = {frame.url.removeprefix(base): frame for frame in page.frames}
        yield [(index, name, by_path[f"/mail/body/{corpus.folder_id}/{uid}"]) for index, (name, uid) in batch]
        page.wait_for_timeout(100)


def test_no_vector_runs_in_the_body_document(session: Session, corpus: Corpus,
                                            canary: ThreadingHTTPServer) -> None:
    """Each body document with the server's own headers (its CSP sandboxes it even without the frame's
    sandbox attribute, which is left out here)."""
    seen = 0
    for batch in frame_batches(session, corpus, sandbox=None):
        for index, name, frame in batch:
            assert f"vector {index}" in frame.locator("body").inner_text(), name
            seen += 1
    assert seen == len(corpus.messages)
    no_findings(session, canary)


def test_sanitiser_alone_stops_every_vector(bare_session: Session, corpus: Corpus,
                                            canary: ThreadingHTTPServer) -> None:
    """Each body document without its CSP, in a frame that is not sandboxed: only the sanitiser is left."""
    seen = 0
    for batch in frame_batches(bare_session, corpus, sandbox=None):
        for index, name, frame in batch:
            # The canary script ran in the frame: page scripts would run there too.
            assert frame.evaluate("() => String(window.alert).includes('__pwned')"), name
            assert f"vector {index}" in frame.locator("body").inner_text(), name
            for left in frame.evaluate(INSPECT_SCRIPT):
                bare_session.detector.note(f"{name}: after parsing: {left}")
            seen += 1
    assert seen == len(corpus.messages)
    bare_session.page.wait_for_timeout(200)
    no_findings(bare_session, canary)


def test_the_detectors_catch_an_unsafe_page(browser: Browser, site: Site, canary: ThreadingHTTPServer) -> None:
    """A page of our origin served without sanitising or CSP (made up by the test): each detector fires."""
    host = f"{CANARY_IP}:{canary.server_address[1]}"
    unsafe = (f'<!doctype html><p>unsafe</p><img src=x onerror="alert(1)"><a href="javascript:alert(2)">x</a>'
              f'<img src="http://{host}/selfcheck.png"><script>console.log("ran")</script>')
    found: dict[bool, tuple[str, list[str]]] = {}
    for replace_dialogs in (True, False):
        context = new_context(browser, site)
        detector = Detector(site.base)
        detector.attach(context, replace_dialogs)
        context.route(f"{site.base}/unsafe-selfcheck",
                      lambda route: route.fulfill(body=unsafe, content_type="text/html"))
        try:
            page = context.new_page()
            page.goto("/unsafe-selfcheck", wait_until="load")
            left = page.evaluate(INSPECT_SCRIPT)
            page.wait_for_timeout(100)
        finally:
            context.close()
        found[replace_dialogs] = ("\n".join(detector.findings), left)
    replaced, left = found[True]
    assert "canary called: alert(1)" in replaced
    assert "console log: ran" in replaced
    assert f"request left our origin: GET http://{host}/selfcheck.png" in replaced
    assert any("handler attribute onerror" in item for item in left)
    assert any("href=javascript:alert(2)" in item for item in left)
    assert any("element <script> left" in item for item in left)
    assert "dialog alert: 1" in found[False][0]
