"""The SQL schema as SQLAlchemy Core tables; Alembic migrations (store/migrations) create and change it.

Invariants kept by the store's code, not by the database alone:
- A folder's UIDs only grow: `uidnext` is bumped in the same transaction that inserts the entry, and a UID is never
  reused while `uidvalidity` stays the same (RFC 9051 §2.3.1.1).
- `highestmodseq` is the largest modseq given to any entry or expunge in the folder; every change takes the next one.
- `exists_count`, `unseen_count`, `size_bytes` of a folder and `used_bytes` of an account are the sums over the
  folder's (or account's) entries; `yizhan check` verifies and repairs them.
- Messages are immutable rows pointing at an immutable blob; an entry (a message in a folder) is what changes.
- Instants are integer seconds since the epoch, UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# System flags are a bit set in `entries.flags` (RFC 9051 §2.3.2).
FLAG_BITS: dict[str, int] = {
    "\\Seen": 1,
    "\\Answered": 2,
    "\\Flagged": 4,
    "\\Deleted": 8,
    "\\Draft": 16,
}
SEEN = FLAG_BITS["\\Seen"]

domains = Table(
    "domains",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(253), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("domain_id", Integer, ForeignKey("domains.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("address", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False, default="user"),
    Column("quota_bytes", BigInteger, nullable=False, default=0),
    Column("used_bytes", BigInteger, nullable=False, default=0),
    Column("disabled", Boolean, nullable=False, default=False),
    # Bumped on every password change, so caches of verified credentials know they are stale.
    Column("credentials_serial", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("domain_id", Integer, ForeignKey("domains.id", ondelete="CASCADE"), nullable=False, index=True),
    # A full address, or "@domain" for a catch-all.
    Column("source", String(320), nullable=False),
    Column("target", String(320), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("source", "target", name="uq_aliases_source_target"),
    Index("ix_aliases_source", "source"),
)

folders = Table(
    "folders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # Hierarchical name with "/" as the delimiter, in UTF-8; "INBOX" is the inbox.
    Column("name", String(1000), nullable=False),
    # One of inbox, sent, drafts, trash, junk, archive; NULL for ordinary folders.
    Column("special_use", String(20), nullable=True),
    Column("subscribed", Boolean, nullable=False, default=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("uidnext", BigInteger, nullable=False, default=1),
    Column("highestmodseq", BigInteger, nullable=False, default=1),
    Column("exists_count", Integer, nullable=False, default=0),
    Column("unseen_count", Integer, nullable=False, default=0),
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("account_id", "name", name="uq_folders_account_name"),
)

# One row (id 1): bumped in the same transaction as every change to domains, accounts (but their usage) and
# aliases, so a process caching the directory knows when to read it again (migration 0003).
directory_version = Table(
    "directory_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("blob", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("internal_date", BigInteger, nullable=False),
    # The Date header when readable, else the internal date: what lists and search sort by.
    Column("date", BigInteger, nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("from_addr", String(320), nullable=False, default=""),
    Column("from_name", String(200), nullable=False, default=""),
    Column("to_text", Text, nullable=False, default=""),
    Column("cc_text", Text, nullable=False, default=""),
    Column("message_id", String(500), nullable=False, default=""),
    Column("in_reply_to", String(500), nullable=False, default=""),
    Column("refs", Text, nullable=False, default=""),
    Column("thread_id", BigInteger, nullable=False, default=0),
    Column("thread_subject", String(200), nullable=False, default=""),
    Column("has_attachments", Boolean, nullable=False, default=False),
    Column("preview", String(300), nullable=False, default=""),
    Column("envelope", Text, nullable=False, default="NIL"),
    Column("bodystructure", Text, nullable=False, default="NIL"),
    Column("body", Text, nullable=False, default="NIL"),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_messages_account_date", "account_id", "date"),
    Index("ix_messages_account_msgid", "account_id", "message_id"),
    Index("ix_messages_account_inreplyto", "account_id", "in_reply_to"),
    Index("ix_messages_account_thread", "account_id", "thread_id"),
    Index("ix_messages_account_tsubject", "account_id", "thread_subject"),
    Index("ix_messages_account_from", "account_id", "from_addr"),
    Index("ix_messages_blob", "blob"),
    # The webmail's sort by size (migration 0005_web_indexes).
    Index("ix_messages_account_size", "account_id", "size", "id"),
    sqlite_autoincrement=True,
)

entries = Table(
    "entries",
    metadata,
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    Column("uid", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("modseq", BigInteger, nullable=False),
    Column("flags", Integer, nullable=False, default=0),
    # Keywords (RFC 9051 §2.3.2) separated by single spaces, e.g. "$Forwarded $Junk".
    Column("keywords", Text, nullable=False, default=""),
    Index("ix_entries_message", "message_id"),
    Index("ix_entries_folder_modseq", "folder_id", "modseq"),
    # Unread and flagged entries of a folder, for the webmail's filters (migration 0005_web_indexes).
    Index("ix_entries_unseen", "folder_id", "uid", sqlite_where=text("(flags & 1) = 0"),
          postgresql_where=text("(flags & 1) = 0")),
    Index("ix_entries_flagged", "folder_id", "uid", sqlite_where=text("(flags & 4) != 0"),
          postgresql_where=text("(flags & 4) != 0")),
)

# UIDs removed from a folder, with the modseq of the removal, for QRESYNC VANISHED (RFC 7162 §3.2.10).
expunged = Table(
    "expunged",
    metadata,
    Column("folder_id", Integer, ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    Column("uid", BigInteger, primary_key=True, autoincrement=False),
    Column("modseq", BigInteger, nullable=False),
)

# The outbound queue (migration 0002_queue). A queued message points at the blob to send (already DKIM-signed when
# `signed` is true); it leaves the queue only when every one of its recipients is final.
QUEUE_KINDS = ("normal", "dsn", "delay")
RECIPIENT_STATUSES = ("pending", "delivered", "bounced", "expired")

queue_messages = Table(
    "queue_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    # The public identifier shown by `yizhan queue` (hex), stable across restarts.
    Column("queue_id", String(40), nullable=False, unique=True),
    Column("blob", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    # The envelope sender; "" for the null reverse-path of bounces (RFC 5321 §4.5.5), which are never bounced.
    Column("mail_from", String(320), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("sign_domain", String(253), nullable=True),
    Column("signed", Boolean, nullable=False, default=False),
    Column("envelope_id", String(100), nullable=True),
    # One of QUEUE_KINDS: an ordinary message, a DSN bounce, or a delay notice.
    Column("kind", String(20), nullable=False, default="normal"),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
    Index("ix_queue_messages_blob", "blob"),
    sqlite_autoincrement=True,
)

queue_recipients = Table(
    "queue_recipients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", Integer, ForeignKey("queue_messages.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(320), nullable=False),
    Column("domain", String(253), nullable=False),
    # One of RECIPIENT_STATUSES; only "pending" recipients are ever attempted.
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_attempt_at", BigInteger, nullable=True),
    Column("last_reply", Text, nullable=False, default=""),
    Column("delay_notified", Boolean, nullable=False, default=False),
    UniqueConstraint("message_id", "address", name="uq_queue_recipients_message_address"),
    Index("ix_queue_recipients_due", "status", "next_attempt_at"),
    Index("ix_queue_recipients_message", "message_id"),
)

# Per-account data of the web and API (migration 0004_web_data). Every row belongs to one account and every query
# of the store's repositories filters by `account_id`, so one account can never reach another's rows.

# A search key column: on PostgreSQL in the "C" collation, so that a prefix range (key >= p AND key < p || U+10FFFF)
# compares bytes as SQLite does and is answered from the index.
SEARCH_KEY = String(320).with_variant(String(320, collation="C"), "postgresql")

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("display_name", String(200), nullable=False, default=""),
    Column("family_name", String(100), nullable=False, default=""),
    Column("given_name", String(100), nullable=False, default=""),
    Column("organisation", String(200), nullable=False, default=""),
    Column("title", String(200), nullable=False, default=""),
    # JSON lists of [value, label] pairs, in the order the user gave them (the first address is the preferred one).
    Column("emails", Text, nullable=False, default="[]"),
    Column("phones", Text, nullable=False, default="[]"),
    Column("notes", Text, nullable=False, default=""),
    # The name as pinyin (Latin names lowercased): how lists sort, Chinese and Latin names together.
    Column("sort_key", SEARCH_KEY, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_contacts_account_sort", "account_id", "sort_key"),
)

# What autocomplete searches: per contact its name, words of it, full pinyin and pinyin initials, and addresses,
# normalised (NFKC, lowercase). `kind` is "name", "pinyin" or "addr"; an exact "addr" key finds a contact by address.
contact_keys = Table(
    "contact_keys",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("key", SEARCH_KEY, primary_key=True),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(10), nullable=False),
    Index("ix_contact_keys_contact", "contact_id"),
)

contact_groups = Table(
    "contact_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("account_id", "name", name="uq_contact_groups_account_name"),
)

contact_group_members = Table(
    "contact_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("contact_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_contact_group_members_contact", "contact_id"),
)

NOTE_FORMATS = ("plain", "html")

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False, default=""),
    # Stored as given; "html" bodies are sanitised when shown, never trusted.
    Column("body", Text, nullable=False, default=""),
    Column("format", String(10), nullable=False, default="plain"),
    Column("pinned", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_notes_account_updated", "account_id", "updated_at"),
)

# Typed account settings as name → JSON value; a missing row means the default (services/settings.py).
account_settings = Table(
    "account_settings",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(50), primary_key=True),
    Column("value", Text, nullable=False),
)

signatures = Table(
    "signatures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("format", String(10), nullable=False, default="plain"),
    # At most one per account is true (kept by store/settings.py in the same transaction).
    Column("is_default", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_signatures_account", "account_id"),
)

# Senders (an address, or "@domain") whose remote images this account always shows.
image_senders = Table(
    "image_senders",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("sender", String(320), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    # SHA-256 (hex) of the whole token; the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    # The token's first characters, shown in lists so a user can tell tokens apart.
    Column("hint", String(16), nullable=False),
    # Scopes separated by single spaces, e.g. "read write".
    Column("scopes", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_api_tokens_account", "account_id"),
)

# Append-only: the store has no update or delete for it, and database triggers refuse both (migration 0004).
# No foreign key: rows outlive the accounts they name.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("actor_id", Integer, nullable=True),
    Column("actor", String(320), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(500), nullable=False, default=""),
    Column("details", Text, nullable=False, default="{}"),
    Column("client", String(64), nullable=False, default=""),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor", "at"),
    Index("ix_audit_log_action", "action", "at"),
    sqlite_autoincrement=True,
)

DELIVERY_DIRECTIONS = ("in", "out", "local")

delivery_log = Table(
    "delivery_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("sender", String(320), nullable=False, default=""),
    # Recipients separated by ", " (also indexed one by one in delivery_log_addresses).
    Column("recipients", Text, nullable=False, default=""),
    Column("message_id", String(500), nullable=False, default=""),
    Column("size", BigInteger, nullable=False, default=0),
    Column("result", String(20), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_delivery_log_at", "at"),
    Index("ix_delivery_log_message_id", "message_id"),
    sqlite_autoincrement=True,
)

# Every address (sender and recipients) of a delivery-log row, so a search by address is an index lookup.
delivery_log_addresses = Table(
    "delivery_log_addresses",
    metadata,
    Column("address", String(320), primary_key=True),
    Column("log_id", Integer, ForeignKey("delivery_log.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_delivery_log_addresses_log", "log_id"),
)
