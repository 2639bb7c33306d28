"""What an administrator publishes and tells users for a hosted domain: the mail clients' settings (host, port,
security of each listener a user connects to) and the DNS records (MX, SPF, DKIM, DMARC, and the optional SRV and
autoconfig names), plus the size parser of quota fields.

Pure functions (no I/O): callers pass the host name, the bound ports and the domain's DKIM key.
The client endpoints follow web/autoconfig.py's order of preference (implicit TLS first, RFC 8314 §3); a listener
that is off (no port, or port <= 0) is left out. Records follow `yizhan dns`: MX (RFC 5321 §5.1), SPF `v=spf1 mx
-all` (RFC 7208), the DKIM key's TXT at `<selector>._domainkey` (RFC 6376 §3.6.2.1), DMARC at `_dmarc`
(RFC 7489 §6.1), SRV for submissions and IMAPS (RFC 6186, RFC 8314) and `autoconfig.<domain>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yizhan.store.dkimkeys import DkimKey
from yizhan.util.errors import InvalidInput

# (listener name, protocol, security), in order of preference.
CLIENT_LISTENERS: tuple[tuple[str, str, str], ...] = (
    ("imaps", "IMAP", "SSL/TLS"),
    ("imap", "IMAP", "STARTTLS"),
    ("pop3s", "POP3", "SSL/TLS"),
    ("pop3", "POP3", "STARTTLS"),
    ("smtps", "SMTP", "SSL/TLS"),
    ("submission", "SMTP", "STARTTLS"),
)

MAX_QUOTA = 1 << 50  # 1 PiB: any larger number is a typing mistake
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_TXT_CHUNK = 255


@dataclass(frozen=True, slots=True)
class ClientEndpoint:
    listener: str
    protocol: str  # IMAP, POP3 or SMTP
    security: str  # SSL/TLS or STARTTLS
    host: str
    port: int
    incoming: bool


@dataclass(frozen=True, slots=True)
class DnsRecord:
    name: str
    type: str
    value: str
    purpose: str  # a short English key the front end translates: mx, host, spf, dkim, dkim-missing, dmarc, srv, ...

    @property
    def zone_line(self) -> str:
        """The record in zone-file syntax (TXT values split into quoted 255-byte strings, RFC 1035 §3.3.14)."""
        value = quoted_txt(self.value) if self.type == "TXT" else self.value
        return f"{self.name + '.':<40} IN {self.type:<5} {value}"


def quoted_txt(value: str) -> str:
    chunks = [value[i:i + _TXT_CHUNK] for i in range(0, len(value), _TXT_CHUNK)] or [""]
    quoted = ['"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks]
    return quoted[0] if len(quoted) == 1 else "( " + " ".join(quoted) + " )"


def client_endpoints(hostname: str, ports: dict[str, int]) -> list[ClientEndpoint]:
    """The endpoints a user's mail client may use, best first."""
    found = []
    for listener, protocol, security in CLIENT_LISTENERS:
        port = ports.get(listener)
        if port is None or port <= 0:
            continue
        found.append(ClientEndpoint(listener, protocol, security, hostname, port, protocol != "SMTP"))
    return found


def a_label(name: str) -> str:
    cleaned = name.strip().rstrip(".").lower()
    try:
        return cleaned.encode("idna").decode("ascii")
    except UnicodeError:
        return cleaned


def dns_records(domain: str, hostname: str, key: DkimKey | None) -> list[DnsRecord]:
    """The records `domain` needs when this server (`hostname`) receives and sends its mail."""
    name, host = a_label(domain), a_label(hostname)
    records = [
        DnsRecord(name, "MX", f"10 {host}.", "mx"),
        DnsRecord(name, "TXT", "v=spf1 mx -all", "spf"),
    ]
    if key is not None:
        records.append(DnsRecord(key.record_name, "TXT", key.public_txt, "dkim"))
    records += [
        DnsRecord(f"_dmarc.{name}", "TXT", f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{name}", "dmarc"),
        DnsRecord(f"_submissions._tcp.{name}", "SRV", f"0 1 465 {host}.", "srv"),
        DnsRecord(f"_imaps._tcp.{name}", "SRV", f"0 1 993 {host}.", "srv"),
        DnsRecord(f"autoconfig.{name}", "CNAME", f"{host}.", "autoconfig"),
    ]
    return records


def parse_size(text: str) -> int:
    """'500M', '2G', '1024', '1.5GiB' → bytes (binary units); '' and '0' mean unlimited (0)."""
    if not text.strip():
        return 0
    match = _SIZE.match(text)
    if not match:
        raise InvalidInput(f"'{text[:40]}' is not a size: write a number of bytes or use K, M, G, T (e.g. 0, 500M, 2G)")
    number, unit = match.groups()
    size = int(float(number) * 1024 ** " kmgt".index(unit.lower() or " "))
    if size > MAX_QUOTA:
        raise InvalidInput(f"'{text[:40]}' is larger than the largest quota (1 PiB)")
    return size
