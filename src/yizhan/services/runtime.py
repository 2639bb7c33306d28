"""`Services`: the store and every use case, built from settings and a data directory.

Both the CLI and the server build one of these; the CLI's commands change the same database the running server
reads. For delivery the server keeps its directory (domains, accounts, aliases, inboxes) in memory
(services/dircache.py) and reads it again when the `directory_version` row moved, checked at most every quarter
of a second and always before calling a recipient or domain unknown, so it sees the CLI's changes at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yizhan.config.paths import DataPaths
from yizhan.config.settings import Settings
from yizhan.mail.compose import ComposeLimits
from yizhan.services.audit import AuditService, DeliveryLogService
from yizhan.services.auth import AuthService
from yizhan.services.bus import EventBus
from yizhan.services.compose import ComposeService
from yizhan.services.contacts import ContactsService
from yizhan.services.deliver import DeliveryService
from yizhan.services.directory import DirectoryService
from yizhan.services.mailbox import MailboxService
from yizhan.services.maildrop import MaildropService
from yizhan.services.notes import NotesService
from yizhan.services.outbound import OutboundService
from yizhan.services.passwords import generate_password
from yizhan.services.reading import ReadingService
from yizhan.services.search import SearchService
from yizhan.services.sessions import SessionRegistry
from yizhan.services.settings import SettingsService
from yizhan.services.submit import SubmitService
from yizhan.services.tokens import TokenService
from yizhan.services.transfer import TransferService
from yizhan.store.store import Store
from yizhan.util.mesh import Peers


@dataclass
class Services:
    settings: Settings
    paths: DataPaths
    store: Store
    bus: EventBus
    directory: DirectoryService
    auth: AuthService
    delivery: DeliveryService
    search: SearchService
    transfer: TransferService
    outbound: OutboundService
    maildrop: MaildropService
    # The other worker processes of this server (util/mesh.py); `Peers()` when this process is the only one.
    peers: Peers
    # IMAP (and the web's) mailbox use cases; built here so every front end shares one.
    mailbox: MailboxService = field(init=False)
    # Built from the services above (same delivery and queue), for the SMTP front ends.
    submit: SubmitService = field(init=False)
    # Open IMAP/POP3 sessions per account (connection limits per account).
    sessions: SessionRegistry = field(init=False)
    # The web's use cases: reading and composing mail, and the account's own data.
    reading: ReadingService = field(init=False)
    compose: ComposeService = field(init=False)
    contacts: ContactsService = field(init=False)
    notes: NotesService = field(init=False)
    account_settings: SettingsService = field(init=False)
    tokens: TokenService = field(init=False)
    audit: AuditService = field(init=False)
    delivery_log: DeliveryLogService = field(init=False)

    def __post_init__(self) -> None:
        self.submit = SubmitService(self.store, self.directory, self.delivery, self.outbound)
        self.mailbox = MailboxService(self.store, self.bus, self.settings.limits.max_message_size)
        self.sessions = SessionRegistry(self.peers)
        self.reading = ReadingService(self.mailbox)
        self.compose = ComposeService(self.mailbox, self.submit, self.store,
                                      ComposeLimits(max_bytes=self.settings.limits.max_message_size))
        self.contacts = ContactsService(self.store)
        self.notes = NotesService(self.store)
        self.account_settings = SettingsService(self.store, self.directory)
        self.tokens = TokenService(self.store)
        self.audit = AuditService(self.store)
        self.delivery_log = DeliveryLogService(self.store, retention_days=30)

    @classmethod
    async def open(cls, settings: Settings, paths: DataPaths, peers: Peers | None = None) -> Services:
        """`peers`: the mesh to the other worker processes, when there are several (app/worker.py)."""
        peers = peers if peers is not None else Peers()
        paths.create()
        store = await Store.open(settings.store.database_url.get_secret_value() or None, paths.database,
                                 paths.blobs, settings.store.group_commit_max)
        bus = EventBus(peers=peers)
        directory = DirectoryService(store, bus)
        return cls(
            settings=settings, paths=paths, store=store, bus=bus, directory=directory,
            auth=AuthService(directory, settings.auth, peers=peers),
            delivery=DeliveryService(store, bus, directory, settings.limits.max_message_size),
            search=SearchService(store), transfer=TransferService(store, bus),
            outbound=OutboundService(store, bus, settings.limits.max_message_size),
            maildrop=MaildropService(store, bus), peers=peers,
        )

    async def bootstrap(self) -> tuple[str, str] | None:
        """On a store with no account at all, create the first domain and administrator.

        Returns (address, generated password) when it did, so the caller can print the password once.
        """
        if await self.store.directory.list_accounts():
            return None
        domain = self.settings.server.domain
        if await self.store.directory.get_domain(domain) is None:
            await self.directory.add_domain(domain)
        address = f"admin@{domain}"
        password = generate_password()
        await self.directory.add_account(address, password, role="admin", display_name="Administrator")
        return address, password

    async def close(self) -> None:
        await self.delivery.delivery_log.flush()  # delivery-log lines still waiting (services/logwriter.py)
        await self.store.close()
