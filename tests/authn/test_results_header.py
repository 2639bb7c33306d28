"""The Authentication-Results field (RFC 8601) stays one well-formed field whatever the inputs hold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.authn.dkim import DkimResult
from yizhan.authn.dmarc import DmarcResult
from yizhan.authn.inbound import format_authentication_results
from yizhan.authn.spf import SpfResult

text = st.text(max_size=400)


@settings(max_examples=300, deadline=None)
@given(authserv=text, sender=text, domain=text, reason=text, selector=text, from_domain=text,
       identity=st.sampled_from(["mailfrom", "helo"]), n_dkim=st.integers(0, 3))
def test_header_is_one_field(authserv: str, sender: str, domain: str, reason: str, selector: str,
                             from_domain: str, identity: str, n_dkim: int) -> None:
    spf = SpfResult("fail", identity, sender, domain, reason)
    dkim = tuple(DkimResult("permerror", domain, selector, reason[:8], reason) for _ in range(n_dkim))
    dmarc = DmarcResult("permerror", from_domain, reason=reason)
    header = format_authentication_results(authserv, spf, dkim, dmarc)
    assert header.startswith("Authentication-Results: ") and header.endswith("\r\n")
    lines = header[:-2].split("\r\n")
    # Every continuation line is folded (starts with a tab); no other line break of any kind; under 998 octets.
    assert all(line.startswith("\t") for line in lines[1:])
    assert all(len(line.splitlines()) == 1 for line in lines)
    assert all(len(line.encode()) < 998 for line in lines)
    assert len(lines) == 3 + max(n_dkim, 1)  # the authserv-id, spf, each dkim (or none), dmarc
