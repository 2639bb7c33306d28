"""Thunderbird autoconfig: our endpoints, with the ports the listeners are bound to."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from tests.web.conftest import Web


def servers(xml: bytes) -> list[dict[str, Any]]:
    root = ElementTree.fromstring(xml)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    provider = root.find("emailProvider")
    assert provider is not None
    found = []
    for node in provider:
        if node.tag in ("incomingServer", "outgoingServer"):
            found.append({"direction": node.tag, "type": node.get("type"),
                          **{child.tag: child.text for child in node}})
    return found


async def test_both_paths_describe_imap_pop3_and_submission(web: Web) -> None:
    server = web.server
    async with web.client() as client:
        for path in ("/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"):
            reply = await client.get(path, params={"emailaddress": "alice@example.com"})
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("application/xml")
            root = ElementTree.fromstring(reply.content)
            assert root.findtext("emailProvider/domain") == "example.com"
            described = [(item["type"], int(item["port"]), item["socketType"]) for item in servers(reply.content)]
            assert described == [
                ("imap", server.port("imaps"), "SSL"), ("imap", server.port("imap"), "STARTTLS"),
                ("pop3", server.port("pop3s"), "SSL"), ("pop3", server.port("pop3"), "STARTTLS"),
                ("smtp", server.port("smtps"), "SSL"), ("smtp", server.port("submission"), "STARTTLS"),
            ]
            for item in servers(reply.content):
                assert item["hostname"] == web.services.settings.server.hostname
                assert item["username"] == "%EMAILADDRESS%"
                assert item["authentication"] == "password-cleartext"
            # The inbound MX and LMTP are not for mail clients.
            assert str(server.port("smtp")) not in [item["port"] for item in servers(reply.content)]


async def test_only_hosted_domains_and_valid_addresses(web: Web) -> None:
    async with web.client() as client:
        other = await client.get("/mail/config-v1.1.xml", params={"emailaddress": "someone@gmail.com"})
        assert other.status_code == 404 and "gmail.com" in other.text
        bad = await client.get("/mail/config-v1.1.xml", params={"emailaddress": "no at sign"})
        assert bad.status_code == 400
        plain = await client.get("/mail/config-v1.1.xml")  # the server's first domain
        assert plain.status_code == 200
        assert ElementTree.fromstring(plain.content).findtext("emailProvider/domain") == "localhost"


async def test_listeners_that_are_off_are_left_out(web_with: Any) -> None:
    async with web_with(listen={"smtp": 0, "submission": 0, "smtps": -1, "lmtp": 0, "imap": 0, "imaps": 0,
                                "pop3": -1, "pop3s": -1, "http": 0}) as web, web.client() as client:
        reply = await client.get("/mail/config-v1.1.xml", params={"emailaddress": "alice@example.com"})
        kinds = [(item["type"], item["socketType"]) for item in servers(reply.content)]
        assert kinds == [("imap", "SSL"), ("imap", "STARTTLS"), ("smtp", "STARTTLS")]
