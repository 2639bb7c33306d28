"""Sender authentication: `spf` (RFC 7208, pyspf), `dkim` (RFC 6376 verify/sign/keys, dkimpy), `dmarc` (RFC 7489),
and `inbound.evaluate`, which runs them on an incoming message and writes the Authentication-Results field
(RFC 8601). The blocking libraries run in threads; their DNS goes through our `Resolver` (`bridge`). Nothing here
raises on a message or a DNS answer: outcomes are results (temperror, permerror, ...), not exceptions."""
