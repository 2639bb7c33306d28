"""The queue runner: takes due recipients from the store and delivers them to their MX hosts or the smarthost.

How a round goes:
1. Due recipients (pending, `next_attempt_at` reached) are read from the store and grouped by destination: the
   recipient's domain, or one group for everything when a smarthost is configured; a group larger than
   `max_per_connection` messages is cut into batches. Work already in flight is skipped; at most
   `queue.concurrency` batches are delivered at once.
2. Recipients of domains hosted here are filed directly (`DeliveryService.deliver`), never sent through DNS, which
   could point back at us. For other domains, MX records are looked up (RFC 5321 §5.1): a null MX (RFC 7505) or a
   domain that does not exist fails the recipients at once (5.1.10, 5.1.2); a temporary DNS failure defers them.
   MX hosts are tried in preference order, each of their addresses in turn; a domain without MX but with addresses
   is its own host.
3. One connection carries every message of a batch; a host that refuses the connection or drops it sends the
   remaining messages on to the next host.
4. Per recipient: 2xx delivered; 5xx bounced; 4xx deferred by the retry schedule, expired (and bounced) when the
   schedule runs out; a delay notice goes to the sender once, after `delay_notice_after`.
5. DSNs are made durable before recipients are marked final, and recipients are marked before a message leaves the
   queue, so a crash at any point repeats work (a duplicate at worst) and never loses a message or its bounce.

The runner wakes when the bus announces `QueueChanged` (a new message, a retry) or when the next recipient is due.
Each recipient's outcome sent elsewhere is written to the delivery log (direction "out"; recipients filed here are
logged by the delivery service), in the background: logging never delays nor fails a delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
import re
from collections.abc import Sequence

from yizhan.dns.resolver import Resolver
from yizhan.mail.dsn import DsnRecipient
from yizhan.queue.bounce import Bouncer
from yizhan.queue.schedule import Schedule
from yizhan.queue.transport import ConnectFailed, Connection, ConnectionLost, Reply, TlsMode
from yizhan.services.runtime import Services
from yizhan.store.outbound import BOUNCED, DELIVERED, EXPIRED, PENDING, QueueChanged, QueuedMessage, RecipientUpdate
from yizhan.util.clock import now_seconds
from yizhan.util.errors import InvalidInput, NotFound, TemporaryFailure, YizhanError

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<?[^\r\n]{1,500}?>?)[ \t]*\r?$",
                         re.IGNORECASE | re.MULTILINE)
_SMARTHOST = ""  # The group key of every message when a smarthost is configured.
# Removing a finished message's blob waits this long, so a delivery of the same bytes that found the blob on disk
# has committed its row before the blob's references are checked again.
BLOB_GRACE = 300.0

# (reply, remote MTA that gave it) per recipient address.
Results = dict[str, tuple[Reply, str]]


class QueueRunner:
    def __init__(self, services: Services, resolver: Resolver | None = None, *, poll_interval: float = 30.0,
                 blob_grace: float = BLOB_GRACE) -> None:
        self.services = services
        self.config = services.settings.queue
        self.hostname = services.settings.server.hostname
        self.resolver = resolver or Resolver.from_settings(services.settings)
        self.schedule = Schedule.from_config(self.config)
        self.bouncer = Bouncer(services.store, services.delivery, services.outbound, self.hostname)
        self.poll_interval = poll_interval
        self.blob_grace = blob_grace
        self._semaphore = asyncio.Semaphore(self.config.concurrency)
        self._wake = asyncio.Event()
        self._inflight: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._releases: set[asyncio.Task[None]] = set()
        self._main: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    # Life cycle

    async def start(self) -> None:
        subscription = self.services.bus.subscribe(None, kinds=(QueueChanged,))

        async def listen() -> None:
            with subscription:
                while True:
                    event = await subscription.get()
                    if isinstance(event, QueueChanged) or subscription.overflowed:
                        subscription.overflowed = False
                        self._wake.set()

        self._listener = asyncio.create_task(listen(), name="queue-listener")
        self._main = asyncio.create_task(self._loop(), name="queue-runner")
        log.info("queue runner started (%s)", f"smarthost {self.config.smarthost}" if self.config.smarthost
                 else "direct MX delivery")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking work; deliveries in progress get `grace` seconds to finish, then are cancelled."""
        for task in (self._main, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._main = self._listener = None
        # Blobs waiting for release stay on disk; `yizhan check --repair` removes them if no one uses them.
        for task in list(self._releases):
            task.cancel()
        await asyncio.gather(*self._releases, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
                timeout = await self._until_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("queue round failed; trying again shortly")
                timeout = min(self.poll_interval, 5.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    async def _until_next(self) -> float:
        next_due = await self.services.store.outbound.next_due()
        if next_due is None:
            return self.poll_interval
        wait = next_due - now_seconds()
        # Something due is in flight: its completion wakes the loop; poll meanwhile for other work.
        return min(self.poll_interval, max(wait, 1.0) if wait <= 0 else wait + 0.05)

    # A round

    async def run_due(self) -> list[asyncio.Task[None]]:
        """Start delivering every due recipient not already in flight; returns the tasks started."""
        due = await self.services.store.outbound.due(now_seconds(), limit=1000)
        groups: dict[str, list[QueuedMessage]] = {}
        for message in due:
            # With a smarthost a message goes in one transaction for all its recipients; direct delivery splits it
            # by recipient domain, since each domain has its own MX hosts.
            by_key: dict[str, list[str]] = {}
            for recipient in message.recipients:
                key = _SMARTHOST if self.config.smarthost else recipient.domain
                by_key.setdefault(key, []).append(recipient.address)
            for key, addresses in by_key.items():
                if (message.queue_id, key) in self._inflight:
                    continue
                part = dataclasses.replace(
                    message, recipients=tuple(r for r in message.recipients if r.address in addresses))
                self._inflight.add((message.queue_id, key))
                groups.setdefault(key, []).append(part)
        started = []
        size = self.config.max_per_connection
        for key, messages in groups.items():
            # A large group is cut into connection-sized batches, delivered in parallel (up to `concurrency`).
            for start in range(0, len(messages), size):
                batch = messages[start:start + size]
                task = asyncio.create_task(self._deliver_group(key, batch), name=f"queue-deliver-{key}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                started.append(task)
        return started

    async def run_once(self) -> None:
        """Deliver everything due now and wait until done (for tests and `yizhan queue run`)."""
        tasks = await self.run_due()
        if tasks:
            await asyncio.gather(*tasks)

    async def _deliver_group(self, key: str, messages: list[QueuedMessage]) -> None:
        try:
            async with self._semaphore:
                try:
                    results, remote = await self._deliver_local(messages)
                    if remote:
                        for queue_id, found in (await self._attempt(key, remote)).items():
                            results.setdefault(queue_id, {}).update(found)
                except Exception as exc:
                    log.exception("delivery to %s failed", key or self.config.smarthost)
                    reply = Reply(451, f"4.3.0 internal error: {type(exc).__name__}")
                    results = {m.queue_id: {r.address: (reply, "") for r in m.recipients} for m in messages}
                for message in messages:
                    try:
                        await self._record(message, results.get(message.queue_id, {}))
                    except Exception:
                        log.exception("recording the outcome of %s failed; it will be tried again", message.queue_id)
        finally:
            for message in messages:
                self._inflight.discard((message.queue_id, key))
            self._wake.set()

    # Delivery

    async def _deliver_local(self, messages: list[QueuedMessage]) -> tuple[dict[str, Results], list[QueuedMessage]]:
        """File recipients of domains hosted here directly (never via DNS, which could loop back to us).

        Returns their results and the messages reduced to their other recipients."""
        domains = {r.domain for m in messages for r in m.recipients}
        hosted = {d for d in domains if await self.services.store.directory.get_domain(d) is not None}
        if not hosted:
            return {}, messages
        results: dict[str, Results] = {}
        remote: list[QueuedMessage] = []
        for message in messages:
            local = [r.address for r in message.recipients if r.domain in hosted]
            others = tuple(r for r in message.recipients if r.domain not in hosted)
            if others:
                remote.append(dataclasses.replace(message, recipients=others))
            if local:
                results[message.queue_id] = await self._file(message, local)
        return results, remote

    async def _file(self, message: QueuedMessage, addresses: list[str]) -> Results:
        here = self.hostname
        try:
            data = await self.services.store.blobs.aread(message.blob)
            report = await self.services.delivery.deliver(data, message.mail_from, addresses)
        except (OSError, YizhanError) as exc:
            reply = Reply(451, f"4.3.0 local delivery failed: {exc}")
            return dict.fromkeys(addresses, (reply, here))
        results: Results = {}
        forwards: list[str] = []
        for outcome in report.outcomes:
            if outcome.error is None:
                results[outcome.recipient] = (Reply(250, "2.0.0 delivered here"), here)
            elif isinstance(outcome.error, NotFound):
                results[outcome.recipient] = (Reply(550, f"5.1.1 {outcome.error}"), here)
            elif isinstance(outcome.error, InvalidInput):
                results[outcome.recipient] = (Reply(554, f"5.6.0 {outcome.error}"), here)
            else:
                results[outcome.recipient] = (Reply(452, f"4.2.2 {outcome.error}"), here)
            forwards += outcome.forwards
        if forwards:
            try:
                await self.services.outbound.enqueue(data, message.mail_from, forwards, kind=message.kind)
            except YizhanError as exc:
                log.warning("forwards of %s not queued: %s", message.queue_id, exc)
        return results

    async def _route(self, domain: str) -> tuple[list[str], Reply | None]:
        """MX hosts to try, in order, or the reply that settles every recipient of the domain at once."""
        if self.config.smarthost:
            return [self.config.smarthost], None
        try:
            answer = await self.resolver.mx(domain)
        except TemporaryFailure as exc:
            return [], Reply(451, f"4.4.3 DNS lookup for {domain} failed temporarily: {exc}")
        if answer.null_mx:
            return [], Reply(556, f"5.1.10 {domain} does not accept mail (null MX, RFC 7505)")
        if not answer.hosts:
            return [], Reply(550, f"5.1.2 {domain} has no MX or address records")
        return [host for _, host in answer.hosts], None

    async def _addresses(self, host: str) -> list[str]:
        with contextlib.suppress(ValueError):
            return [str(ipaddress.ip_address(host.strip("[]")))]
        return await self.resolver.addresses(host)

    async def _attempt(self, key: str, messages: list[QueuedMessage]) -> dict[str, Results]:
        results: dict[str, Results] = {}
        hosts, settled = await self._route(key)
        if settled is not None:
            for m in messages:
                results[m.queue_id] = {r.address: (settled, "") for r in m.recipients}
            return results
        smarthost = bool(self.config.smarthost)
        port = self.config.smarthost_port if smarthost else self.config.remote_port
        tls: TlsMode = self.config.smarthost_tls if smarthost else "opportunistic"
        remaining = list(messages)
        last = (Reply(451, "4.4.1 no host answered"), "")
        for host in hosts:
            if not remaining:
                break
            try:
                addresses = await self._addresses(host)
            except TemporaryFailure as exc:
                last = (Reply(451, f"4.4.3 cannot look up {host}: {exc}"), host)
                continue
            if not addresses:
                last = (Reply(451, f"4.4.4 {host} has no addresses"), host)
            for address in addresses:
                while remaining:
                    try:
                        connection = await Connection.open(
                            host, address, port, helo_name=self.hostname, tls=tls,
                            connect_timeout=self.config.connect_timeout, command_timeout=self.config.command_timeout,
                            verify=self.config.smarthost_verify if smarthost else False,
                            username=self.config.smarthost_username if smarthost else "",
                            password=self.config.smarthost_password.get_secret_value() if smarthost else "",
                            source_address=self.config.source_address)
                    except ConnectFailed as exc:
                        log.info("cannot deliver via %s [%s]: %s", host, address, exc)
                        reply = exc.reply
                        if smarthost and reply.permanent:
                            # Our relay turning us away is a configuration problem, not the message's: wait.
                            reply = Reply(451, f"4.4.0 the smarthost refused the session: {reply}")
                        last = (reply, host)
                        break
                    try:
                        if not await self._send_over(connection, remaining, results):
                            break
                    except ConnectionLost as exc:
                        log.info("%s", exc)
                        last = (Reply(451, f"4.4.2 {exc}"), host)
                        break
                    finally:
                        await connection.close()
                if not remaining:
                    break
        for m in remaining:
            results[m.queue_id] = {r.address: last for r in m.recipients}
        return results

    async def _send_over(self, connection: Connection, remaining: list[QueuedMessage],
                         results: dict[str, Results]) -> bool:
        """Send messages from the front of `remaining` over one connection; True when the limit was reached."""
        for _ in range(self.config.max_per_connection):
            if not remaining:
                return False
            message = remaining[0]
            try:
                data = await self.services.store.blobs.aread(message.blob)
            except OSError as exc:
                log.error("queued message %s cannot be read: %s", message.queue_id, exc)
                reply = Reply(451, "4.3.0 the queued copy cannot be read")
                results[message.queue_id] = {r.address: (reply, "") for r in message.recipients}
                remaining.pop(0)
                continue
            replies = await connection.send(message.mail_from, [r.address for r in message.recipients], data)
            results[message.queue_id] = {a: (reply, connection.host) for a, reply in replies.items()}
            remaining.pop(0)
            for address, reply in replies.items():
                log.info("%s to <%s> via %s [%s]%s: %s", message.queue_id, address, connection.host,
                         connection.address, " TLS" if connection.tls else "", reply)
        return bool(remaining)

    # Outcomes

    async def _record(self, message: QueuedMessage, results: Results) -> None:
        now = now_seconds()
        updates: list[RecipientUpdate] = []
        failed: list[DsnRecipient] = []
        delayed: list[DsnRecipient] = []
        for r in message.recipients:
            reply, mta = results.get(r.address, (Reply(451, "4.3.0 no result"), ""))
            if reply.ok:
                updates.append(RecipientUpdate(r.address, DELIVERED, r.next_attempt_at, str(reply), now))
                continue
            if reply.permanent:
                updates.append(RecipientUpdate(r.address, BOUNCED, r.next_attempt_at, str(reply), now))
                failed.append(DsnRecipient(r.address, reply.status, str(reply), mta, now))
                continue
            next_at = self.schedule.next_attempt(message.created_at, r.attempts + 1, now)
            if next_at is None:
                text = f"{reply} (gave up: delivery time expired)"
                updates.append(RecipientUpdate(r.address, EXPIRED, r.next_attempt_at, text, now))
                failed.append(DsnRecipient(r.address, reply.status, text, mta, now))
                continue
            notify = message.kind == "normal" and self.schedule.delay_notice_due(
                message.created_at, now, r.delay_notified)
            updates.append(RecipientUpdate(r.address, PENDING, next_at, str(reply), now,
                                           delay_notified=True if notify else None))
            if notify:
                delayed.append(DsnRecipient(r.address, reply.status, str(reply), mta, now,
                                            will_retry_until=self.schedule.expires_at(message.created_at)))
        if failed or delayed:
            original = await self._original(message)
            if failed:
                await self.bouncer.notify(message, original, failed, "failed")
            if delayed:
                await self.bouncer.notify(message, original, delayed, "delayed")
        self._log_outcomes(message, updates, results)
        finished, freed = await self.services.store.outbound.update(message.queue_id, updates)
        if finished:
            log.info("%s left the queue", message.queue_id)
        if freed:
            self._release_later(freed)

    def _log_outcomes(self, message: QueuedMessage, updates: Sequence[RecipientUpdate], results: Results) -> None:
        """Write each remote recipient's outcome to the delivery log, in the background (never raises)."""
        try:
            remote = [u for u in updates if results.get(u.address, (None, ""))[1] != self.hostname]
            if not remote:
                return

            async def write() -> None:
                try:
                    message_id = message_id_of(await self._original(message))
                    for update in remote:
                        mta = results.get(update.address, (None, ""))[1]
                        result = "deferred" if update.status == PENDING else update.status
                        detail = update.last_reply + (f" (via {mta})" if mta else "") + f" [queue {message.queue_id}]"
                        self.services.delivery.delivery_log.submit("out", message.mail_from, [update.address],
                                                                   message_id, message.size, result, detail)
                except Exception:
                    log.exception("delivery log entries for %s not written", message.queue_id)

            task = asyncio.create_task(write(), name="queue-delivery-log")
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)
        except Exception:
            log.exception("delivery log entries for %s not written", message.queue_id)

    async def _original(self, message: QueuedMessage) -> bytes:
        try:
            return await self.services.store.blobs.aread(message.blob)
        except OSError:
            return b""

    def _release_later(self, blobs: Sequence[str]) -> None:
        async def release() -> None:
            await asyncio.sleep(self.blob_grace)
            await self.services.outbound.release_blobs(blobs)

        task = asyncio.create_task(release(), name="queue-release-blobs")
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)


def message_id_of(data: bytes) -> str:
    """The Message-ID field of a message's header (RFC 5322 §3.6.4), or ""; never raises."""
    head = data[:64 * 1024]
    end = head.find(b"\r\n\r\n")
    match = _MESSAGE_ID.search(head[:end] if end >= 0 else head)
    return match.group(1).decode("ascii", "replace").strip() if match else ""
