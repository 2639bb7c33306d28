"""What the reading routes share: the services they use, signed links, policies for served bytes, and headers.

Signed links. The message body is shown in an `<iframe sandbox>` without `allow-same-origin`, so the browser treats
it as an opaque origin, and requests made from it (inline `cid:` images, proxied remote images) are cross-site:
they carry no SameSite=Lax session cookie. The URLs the body refers to therefore carry their own proof: an HMAC
(a key derived from the web secret) over the account id, its `credentials_serial` (a password change voids every
link), an expiry, and what the link names (the image URL; or folder, UID and part). A link is honoured only while
its account exists and is enabled; when the request has a session too, it must be the same account.

Served bytes (`part_policy`): images (not SVG) and PDF may be shown inline, everything else is only a download
(`Content-Disposition: attachment` with an RFC 6266 `filename*`); types that a browser could run (HTML, XHTML,
SVG, XML, scripts) are labelled application/octet-stream. Every answer has nosniff and a CSP that loads nothing;
all but PDF are sandboxed (Chromium refuses to run its PDF viewer in a sandboxed document, and the viewer runs
in its own isolated process without access to our origin).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fastapi import Request

from yizhan.services.imageproxy import ImageProxy
from yizhan.services.reading import ReadingService
from yizhan.services.receipts import ReceiptService
from yizhan.services.webmail import WebmailService
from yizhan.store.records import AccountRecord
from yizhan.util.clock import now_seconds
from yizhan.util.errors import NotFound, PermissionDenied
from yizhan.web.deps import Principal, optional_account, web_state
from yizhan.web.errors import Unauthenticated
from yizhan.web.security import CSP

# Most UIDs are 32-bit (RFC 9051 §2.3.1.1); folder ids are database ids.
MAX_UID = 2**32 - 1
MAX_FOLDER_ID = 2**62
LINK_LIFETIME = 24 * 3600
_SIG_HEX = 40
_BAD_LINK = "this link is not valid or has expired: reload the message"

# The reading page frames the message body and PDF previews from this origin (the site-wide CSP allows it, as the
# message list's page loads the pane; it is restated here in case that changes).
PAGE_CSP = CSP if "frame-src 'self'" in CSP else CSP.replace("frame-ancestors", "frame-src 'self'; frame-ancestors")
# The message body document: nothing but images from here (parts and the proxy) and its own inline styles; no
# script, no form, no plugin, no base; framed only by our pages; sandboxed even when opened on its own.
BODY_CSP = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; "
            "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
DOWNLOAD_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'self'; sandbox"
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

_PREVIEW_IMAGES = frozenset({"image/png", "image/jpeg", "image/pjpeg", "image/gif", "image/webp", "image/bmp",
                             "image/avif", "image/x-icon", "image/vnd.microsoft.icon"})
_RUNNABLE = re.compile(r"html|xml|svg|script|ecmascript|x-shockwave|multipart|cache-manifest|text/css|x-sh\b",
                       re.IGNORECASE)
_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


@dataclass(frozen=True)
class Readers:
    """The services a reading route needs."""

    reading: ReadingService
    receipts: ReceiptService
    webmail: WebmailService
    proxy: ImageProxy


def readers(request: Request) -> Readers:
    state = web_state(request)
    found = state.extra.get("readers")
    if isinstance(found, Readers):
        return found
    services = state.services
    web = services.settings.web
    made = Readers(
        reading=services.reading,
        receipts=ReceiptService(services.mailbox, services.submit, services.settings.server.hostname),
        webmail=WebmailService.of(services),
        proxy=ImageProxy(allow_private=web.image_proxy_allow_private, max_bytes=web.image_proxy_max_bytes,
                         timeout=web.image_proxy_timeout),
    )
    state.extra["readers"] = made
    return made


# --- Signed links ---

def _key(request: Request) -> bytes:
    return web_state(request).codec.derived_key("yizhan reading links v1")


def _signature(request: Request, account: AccountRecord, expires: int, subject: str) -> str:
    text = f"{account.id}\0{account.credentials_serial}\0{expires}\0{subject}".encode("utf-8", "surrogatepass")
    return hmac.new(_key(request), text, hashlib.sha256).hexdigest()[:_SIG_HEX]


def _expiry() -> int:
    # Rounded up to the hour, so a page rendered twice in an hour gives the same links (browsers cache them).
    return (now_seconds() // 3600 + 1) * 3600 + LINK_LIFETIME


def part_subject(folder_id: int, uid: int, path: str) -> str:
    return f"part\0{folder_id}\0{uid}\0{path}"


def proxy_subject(url: str) -> str:
    return f"proxy\0{url}"


def signed_query(request: Request, account: AccountRecord, subject: str) -> dict[str, str]:
    expires = _expiry()
    return {"a": str(account.id), "x": str(expires), "sig": _signature(request, account, expires, subject)}


def proxy_url(request: Request, account: AccountRecord, url: str) -> str:
    query = {"url": url, **signed_query(request, account, proxy_subject(url))}
    return "/mail/proxy?" + urlencode(query, quote_via=quote, safe="")


def part_url(folder_id: int, uid: int, path: str, *, inline: bool = False, download: bool = False) -> str:
    """The session-authenticated URL of a part (attachment lists, previews)."""
    flag = "?inline=1" if inline else "?download=1" if download else ""
    return f"/mail/part/{folder_id}/{uid}/{quote(path, safe='.')}{flag}"


def signed_part_url(request: Request, account: AccountRecord, folder_id: int, uid: int, path: str) -> str:
    """The URL a message body uses for an inline (cid:) part: works without the cookie (see the docstring)."""
    query = {"inline": "1", **signed_query(request, account, part_subject(folder_id, uid, path))}
    return f"/mail/part/{folder_id}/{uid}/{quote(path, safe='.')}?" + urlencode(query)


async def link_account(request: Request, subject: str) -> AccountRecord:
    """The account a request acts for: the session's, or that of a valid signed link (`a`, `x`, `sig` in the
    query). A link for another account than the session's: NotFound (as for anything foreign); a forged, expired
    or voided link: PermissionDenied. Neither a session nor a link: Unauthenticated."""
    params = request.query_params
    principal: Principal | None = await optional_account(request)
    sig = params.get("sig")
    if sig is None:
        if principal is None:
            raise Unauthenticated()
        return principal.account
    account_text, expires_text = params.get("a", ""), params.get("x", "")
    if not (account_text.isdigit() and expires_text.isdigit() and len(account_text) < 19 and len(expires_text) < 12):
        raise PermissionDenied(_BAD_LINK)
    account_id, expires = int(account_text), int(expires_text)
    if principal is not None and principal.account.id != account_id:
        raise NotFound("no such message")
    account = await web_state(request).services.store.directory.get_account_by_id(account_id)
    if account is None or account.disabled or expires < now_seconds():
        raise PermissionDenied(_BAD_LINK)
    expected = _signature(request, account, expires, subject)
    if not hmac.compare_digest(sig.encode("ascii", "replace")[:_SIG_HEX * 2], expected.encode("ascii")):
        raise PermissionDenied(_BAD_LINK)
    return account


# --- Served bytes ---

def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266 §4.3: an ASCII `filename` for old clients and `filename*` (RFC 8187, UTF-8) for every other."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%;' else "_" for c in filename)
    fallback = fallback.strip() or "download"
    return f"{kind}; filename=\"{fallback[:150]}\"; filename*=UTF-8''{quote(filename, safe='')}"


@dataclass(frozen=True)
class PartPolicy:
    content_type: str
    inline_allowed: bool
    csp: str


def part_policy(content_type: str, charset: str = "") -> PartPolicy:
    """How a part of type `content_type` is served (see the module docstring)."""
    kind = content_type.strip().lower()
    if kind in _PREVIEW_IMAGES:
        return PartPolicy(kind, True, DOWNLOAD_CSP)
    if kind == "application/pdf":
        return PartPolicy(kind, True, PDF_CSP)
    if not _TYPE.match(kind) or _RUNNABLE.search(kind):
        return PartPolicy("application/octet-stream", False, DOWNLOAD_CSP)
    if kind.startswith("text/"):
        safe_charset = charset if re.fullmatch(r"[A-Za-z0-9._:-]{1,40}", charset or "") else ""
        label = "text/plain" if kind != "text/csv" and kind != "text/calendar" else kind
        return PartPolicy(f"{label}; charset={safe_charset}" if safe_charset else label, False, DOWNLOAD_CSP)
    return PartPolicy(kind, False, DOWNLOAD_CSP)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
