"""Thunderbird autoconfiguration: `/.well-known/autoconfig/mail/config-v1.1.xml` and `/mail/config-v1.1.xml`
(the latter is what Thunderbird asks `autoconfig.<domain>` for), with `?emailaddress=user@domain`.

The answer describes this server's mail endpoints in the clientConfig 1.1 format (Mozilla's "Autoconfiguration
config file format"): the host is `server.hostname`, the ports are those the listeners are bound to, in order of
preference — IMAP over TLS, IMAP with STARTTLS, POP3 over TLS, POP3 with STARTTLS; submission over TLS, then
submission with STARTTLS. A listener that is off is left out. The user name is the whole address.
A domain we do not host is 404 (we must not claim other people's mail); a malformed address is 400. Without
`emailaddress` the answer describes `server.domain`.
"""

from __future__ import annotations

from typing import Annotated
from xml.etree import ElementTree

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from yizhan.services.directory import checked_address, normalize_domain
from yizhan.util.errors import NotFound
from yizhan.web.deps import web_state

router = APIRouter(include_in_schema=False)

# (listener name, server element, protocol type, socketType), in order of preference.
_ENDPOINTS = (
    ("imaps", "incomingServer", "imap", "SSL"),
    ("imap", "incomingServer", "imap", "STARTTLS"),
    ("pop3s", "incomingServer", "pop3", "SSL"),
    ("pop3", "incomingServer", "pop3", "STARTTLS"),
    ("smtps", "outgoingServer", "smtp", "SSL"),
    ("submission", "outgoingServer", "smtp", "STARTTLS"),
)


def config_xml(domain: str, hostname: str, ports: dict[str, int]) -> bytes:
    root = ElementTree.Element("clientConfig", version="1.1")
    provider = ElementTree.SubElement(root, "emailProvider", id=domain)
    for tag, text in (("domain", domain), ("displayName", f"{domain} (Yizhan)"), ("displayShortName", domain)):
        ElementTree.SubElement(provider, tag).text = text
    for listener, element, kind, socket_type in _ENDPOINTS:
        port = ports.get(listener)
        if port is None or port <= 0:
            continue
        server = ElementTree.SubElement(provider, element, type=kind)
        for tag, text in (("hostname", hostname), ("port", str(port)), ("socketType", socket_type),
                          ("authentication", "password-cleartext"), ("username", "%EMAILADDRESS%")):
            ElementTree.SubElement(server, tag).text = text
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


async def _answer(request: Request, emailaddress: str | None) -> Response:
    state = web_state(request)
    settings = state.services.settings
    if emailaddress:
        domain = checked_address(emailaddress).rsplit("@", 1)[1]
    else:
        domain = normalize_domain(settings.server.domain)
    if not await state.services.directory.is_hosted(domain):
        raise NotFound(f"{domain} is not a domain of this server")
    body = config_xml(domain, settings.server.hostname, state.ports())
    return Response(body, media_type="application/xml; charset=utf-8")


EmailAddress = Annotated[str | None, Query(max_length=320, description="The address being set up")]


@router.get("/.well-known/autoconfig/mail/config-v1.1.xml")
async def well_known(request: Request, emailaddress: EmailAddress = None) -> Response:
    return await _answer(request, emailaddress)


@router.get("/mail/config-v1.1.xml")
async def autoconfig_host(request: Request, emailaddress: EmailAddress = None) -> Response:
    return await _answer(request, emailaddress)
