"""Remote images of mail fetched by the server, so the reader's browser never contacts the sender's servers.

`ImageProxy.fetch(url)` fetches one http(s) URL and returns it only when it is an image the browser may show.

Rules (each refusal is `InvalidInput`, `PermissionDenied` (an address that is not public) or
`NotFound` with a message saying why; a network failure or the time limit is `TemporaryFailure`):
- Only `http` and `https` URLs of at most `MAX_URL_CHARS`, with a host and without user information.
- SSRF: the host name is resolved here, and the connection goes only to an address that is public (not loopback,
  private, link-local, shared, reserved, multicast or unspecified; IPv4-mapped IPv6 addresses are judged as the
  IPv4 address they carry). The check is made on the very addresses connected to (a custom network backend under
  httpcore), so a DNS answer that changes between a check and a connection (rebinding) cannot slip through.
  `allow_private` (setting `web.image_proxy_allow_private`) lifts it, for tests that serve images from 127.0.0.1.
- Redirects are followed up to `MAX_REDIRECTS` times, each target checked like the first URL.
- Limits: `max_bytes` of body (Content-Length checked first, then the bytes counted as they arrive) and `timeout`
  seconds for the whole fetch, redirects included.
- Only `image/*` types are passed on, never `image/svg+xml` (SVG is a document that can carry scripts); the type
  is taken from the answer's Content-Type, reduced to `type/subtype`.
- No cookies, no Referer, no credentials are sent: a plain GET with our own User-Agent.

Invariant: nothing from the answer but its bytes and its image type leaves here; the web serves them with
nosniff and a sandboxing CSP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore

from yizhan.util.errors import InvalidInput, NotFound, PermissionDenied, TemporaryFailure

MAX_URL_CHARS = 4096
MAX_REDIRECTS = 3
USER_AGENT = b"Yizhan-image-proxy/1"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class ProxiedImage:
    content_type: str
    data: bytes


class AddressRefused(httpcore.ConnectError):
    """Every address the host name resolves to is one the proxy may not connect to."""


def is_public(address: str) -> bool:
    """Whether `address` is a public unicast address (see the module docstring)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not (ip.is_multicast or ip.is_loopback or ip.is_link_local or ip.is_private
                                 or ip.is_reserved or ip.is_unspecified)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses that pass `is_public` (unless allowed)."""

    def __init__(self, allow_private: bool) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.allow_private = allow_private

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109
                          local_address: str | None = None,
                          socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self.allow_private or is_public(a)]
        if not allowed:
            raise AddressRefused(f"{host} does not resolve to a public address")
        last: Exception | None = None
        for address in allowed[:4]:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise httpcore.ConnectError(f"cannot connect to {host}") from last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def checked_url(url: str) -> str:
    """`url` when it is one the proxy fetches; InvalidInput saying why otherwise."""
    if not url or len(url) > MAX_URL_CHARS or not url.isascii() or any(c in url for c in "\r\n\t \x00"):
        raise InvalidInput("the image address must be an http or https URL of at most 4096 characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput("only http and https images are fetched")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("image addresses with a user name or password are not fetched")
    try:
        parts.port  # noqa: B018 - a port out of range raises ValueError here.
    except ValueError:
        raise InvalidInput("the image address has an invalid port") from None
    return url


def image_type(value: str) -> str | None:
    """The `type/subtype` of an image Content-Type we pass on, or None (not an image, or SVG)."""
    kind = value.split(";", 1)[0].strip().lower()
    if not kind.startswith("image/") or "svg" in kind or "xml" in kind:
        return None
    subtype = kind[6:]
    if not subtype or not all(c.isalnum() or c in "+-." for c in subtype):
        return None
    return kind


class ImageProxy:
    def __init__(self, *, allow_private: bool = False, max_bytes: int = 5 * 1024 * 1024,
                 timeout: float = 10.0) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def fetch(self, url: str) -> ProxiedImage:
        """The image at `url` (see the module docstring for every rule)."""
        url = checked_url(url)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch(url)
        except TimeoutError:
            raise TemporaryFailure(f"the image server did not answer within {self.timeout:g} seconds") from None

    async def _fetch(self, url: str) -> ProxiedImage:
        context = ssl.create_default_context()
        async with httpcore.AsyncConnectionPool(ssl_context=context, network_backend=_GuardedBackend(
                self.allow_private), max_connections=2, retries=0) as pool:
            for _ in range(MAX_REDIRECTS + 1):
                headers = [(b"User-Agent", USER_AGENT), (b"Accept", b"image/avif,image/webp,image/png,image/*;q=0.8")]
                try:
                    async with pool.stream("GET", url, headers=headers) as response:
                        if response.status in _REDIRECTS:
                            location = _header(response.headers, b"location")
                            if not location:
                                raise NotFound("the image server redirected nowhere")
                            url = checked_url(urljoin(url, location))
                            continue
                        return await self._image(response)
                except AddressRefused as exc:
                    raise PermissionDenied(f"refused: {exc}") from None
                except (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.ReadError, httpcore.ReadTimeout,
                        httpcore.RemoteProtocolError, httpcore.WriteError, httpcore.UnsupportedProtocol,
                        httpcore.LocalProtocolError) as exc:
                    raise TemporaryFailure(f"the image could not be fetched: {exc}"[:300]) from None
        raise NotFound(f"the image server redirected more than {MAX_REDIRECTS} times")

    async def _image(self, response: httpcore.Response) -> ProxiedImage:
        if response.status != 200:
            raise NotFound(f"the image server answered {response.status}")
        kind = image_type(_header(response.headers, b"content-type"))
        if kind is None:
            raise InvalidInput("the remote file is not an image the browser may show (SVG and other types are "
                               "not passed on)")
        length = _header(response.headers, b"content-length").strip()
        if length.isdigit() and int(length) > self.max_bytes:
            raise InvalidInput(f"the image is larger than {self.max_bytes} bytes")
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_stream():
            total += len(chunk)
            if total > self.max_bytes:
                raise InvalidInput(f"the image is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return ProxiedImage(kind, b"".join(chunks))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


__all__ = ["ImageProxy", "ProxiedImage", "checked_url", "image_type", "is_public"]
