"""A real authoritative DNS server for tests, on dnslib, serving UDP and TCP on 127.0.0.1 (port picked by the kernel).

Records are set at runtime with `add(name, rtype, value)` and removed with `remove(name, rtype=None)`; a name with no
record of any type answers NXDOMAIN, a name with records of other types answers NOERROR with no answer (NODATA).
`servfail(name)` makes a name answer SERVFAIL (to test temporary errors). CNAMEs are followed within the zone.
TXT values longer than 255 bytes are split into 255-byte strings, as a DNS zone would hold them (RFC 7208 §3.3).
UDP answers too large for the client are truncated (TC bit), so clients fall back to TCP as with real servers.
Every record has TTL 0 (unless `add` is given another) and negative answers carry an SOA of TTL 0, so nothing is
cached between changes.
Traffic never leaves the loopback interface.
"""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType

from dnslib import CNAME, QTYPE, RCODE, RR, SOA, TXT, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

_TXT_CHUNK = 255
# Negative answers carry an SOA with TTL and minimum 0 (RFC 2308 §3), so resolvers never cache a "no such record".
_NEGATIVE = RR(".", QTYPE.SOA, ttl=0, rdata=SOA("ns.test.", "hostmaster.test.", (1, 0, 0, 0, 0)))


def _key(name: str) -> str:
    return name.rstrip(".").lower()


class _Zone(BaseResolver):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, list[tuple[str, RR]]] = {}
        self.failing: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        self.tcp_queries: list[tuple[str, str]] = []

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        qname = _key(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((qname, qtype))
            if getattr(handler, "protocol", "") == "tcp":
                self.tcp_queries.append((qname, qtype))
            if qname in self.failing:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            name, seen = qname, set()
            while True:
                entries = self.records.get(name)
                if not entries:
                    if name == qname:
                        reply.header.rcode = RCODE.NXDOMAIN
                    reply.add_auth(_NEGATIVE)
                    return reply
                matches = [rr for rtype, rr in entries if rtype == qtype]
                cnames = [rr for rtype, rr in entries if rtype == "CNAME"]
                if matches or not cnames or qtype == "CNAME":
                    for rr in matches:
                        reply.add_answer(rr)
                    if not matches:
                        reply.add_auth(_NEGATIVE)
                    return reply
                reply.add_answer(cnames[0])
                seen.add(name)
                name = _key(str(cnames[0].rdata.label))
                if name in seen:
                    return reply


class _Handler(DNSHandler):
    """Truncates UDP answers larger than the client can take (512 bytes, or its EDNS payload size, RFC 6891 §6.2.5)
    as real servers do: the question is kept and the TC bit set, so clients retry over TCP."""

    def get_reply(self, data: bytes) -> bytes:
        request = DNSRecord.parse(data)  # a malformed request raises DNSError, which dnslib logs and drops
        reply = self.server.resolver.resolve(request, self)
        packed: bytes = reply.pack()
        if self.protocol == "udp":
            limit = max([512] + [int(rr.rclass) for rr in request.ar if rr.rtype == QTYPE.OPT])
            if len(packed) > limit:
                short = request.reply()
                short.header.rcode = reply.header.rcode
                short.header.tc = 1
                packed = short.pack()
        return packed


def _record(name: str, rtype: str, value: str, ttl: int = 0) -> RR:
    fqdn = name.rstrip(".") + "."
    if rtype == "TXT":
        data = value.encode()
        chunks = [data[i:i + _TXT_CHUNK] for i in range(0, len(data), _TXT_CHUNK)] or [b""]
        return RR(fqdn, QTYPE.TXT, ttl=ttl, rdata=TXT(chunks))
    if rtype == "CNAME":
        return RR(fqdn, QTYPE.CNAME, ttl=ttl, rdata=CNAME(value.rstrip(".") + "."))
    records = RR.fromZone(f"{fqdn} {int(ttl)} IN {rtype} {value}")
    if len(records) != 1:
        raise ValueError(f"cannot make one {rtype} record of {value!r}")
    rr: RR = records[0]
    return rr


class DnsTestServer:
    """Start with `async with DnsTestServer() as dns:` or `start()`/`stop()`; point a Resolver at `.address`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._zone = _Zone()
        self._servers: list[DNSServer] = []
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def queries(self) -> list[tuple[str, str]]:
        """(name, type) of every query received so far."""
        with self._zone.lock:
            return list(self._zone.queries)

    @property
    def tcp_queries(self) -> list[tuple[str, str]]:
        """(name, type) of the queries received over TCP."""
        with self._zone.lock:
            return list(self._zone.tcp_queries)

    def add(self, name: str, rtype: str, value: str, ttl: int = 0) -> None:
        """Add one record, e.g. add("example.com", "MX", "10 mx.example.com."); `ttl` in seconds."""
        rtype = rtype.upper()
        record = _record(name, rtype, value, ttl)
        with self._zone.lock:
            self._zone.records.setdefault(_key(name), []).append((rtype, record))

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Remove every record of `name`, or only those of type `rtype`."""
        with self._zone.lock:
            entries = self._zone.records.pop(_key(name), [])
            if rtype is not None:
                kept = [(t, rr) for t, rr in entries if t != rtype.upper()]
                if kept:
                    self._zone.records[_key(name)] = kept

    def servfail(self, name: str, failing: bool = True) -> None:
        """Make `name` answer SERVFAIL (or stop doing so)."""
        with self._zone.lock:
            if failing:
                self._zone.failing.add(_key(name))
            else:
                self._zone.failing.discard(_key(name))

    def start(self) -> None:
        quiet = DNSLogger(logf=lambda _: None)
        for _ in range(20):
            udp = DNSServer(self._zone, address=self.host, port=0, logger=quiet, handler=_Handler)
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(self._zone, address=self.host, port=port, tcp=True, logger=quiet, handler=_Handler)
            except OSError:
                udp.server.server_close()
                continue
            self.port = port
            self._servers = [udp, tcp]
            break
        else:
            raise OSError("no free port for the test DNS server")
        for server in self._servers:
            thread = threading.Thread(target=self._serve, args=(server.server,), daemon=True,
                                      name=f"dns-test-{self.port}")
            thread.start()
            self._threads.append(thread)

    @staticmethod
    def _serve(server: socketserver.BaseServer) -> None:
        server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> DnsTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> DnsTestServer:
        self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.stop()
