"""The initial schema: domains, accounts, aliases, folders, messages, entries, expunged, and the search index.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domains",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(253), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id", ondelete="CASCADE"), nullable=False),
        sa.Column("address", sa.String(320), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger, nullable=False),
        sa.Column("used_bytes", sa.BigInteger, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("credentials_serial", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_accounts_domain_id", "accounts", ["domain_id"])
    op.create_table(
        "aliases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(320), nullable=False),
        sa.Column("target", sa.String(320), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("source", "target", name="uq_aliases_source_target"),
    )
    op.create_index("ix_aliases_domain_id", "aliases", ["domain_id"])
    op.create_index("ix_aliases_source", "aliases", ["source"])
    op.create_table(
        "folders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(1000), nullable=False),
        sa.Column("special_use", sa.String(20), nullable=True),
        sa.Column("subscribed", sa.Boolean, nullable=False),
        sa.Column("uidvalidity", sa.BigInteger, nullable=False),
        sa.Column("uidnext", sa.BigInteger, nullable=False),
        sa.Column("highestmodseq", sa.BigInteger, nullable=False),
        sa.Column("exists_count", sa.Integer, nullable=False),
        sa.Column("unseen_count", sa.Integer, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("account_id", "name", name="uq_folders_account_name"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("blob", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("internal_date", sa.BigInteger, nullable=False),
        sa.Column("date", sa.BigInteger, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("from_addr", sa.String(320), nullable=False),
        sa.Column("from_name", sa.String(200), nullable=False),
        sa.Column("to_text", sa.Text, nullable=False),
        sa.Column("cc_text", sa.Text, nullable=False),
        sa.Column("message_id", sa.String(500), nullable=False),
        sa.Column("in_reply_to", sa.String(500), nullable=False),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("thread_id", sa.BigInteger, nullable=False),
        sa.Column("thread_subject", sa.String(200), nullable=False),
        sa.Column("has_attachments", sa.Boolean, nullable=False),
        sa.Column("preview", sa.String(300), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("bodystructure", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    for name, columns in {
        "ix_messages_account_date": ["account_id", "date"],
        "ix_messages_account_msgid": ["account_id", "message_id"],
        "ix_messages_account_inreplyto": ["account_id", "in_reply_to"],
        "ix_messages_account_thread": ["account_id", "thread_id"],
        "ix_messages_account_tsubject": ["account_id", "thread_subject"],
        "ix_messages_account_from": ["account_id", "from_addr"],
        "ix_messages_blob": ["blob"],
    }.items():
        op.create_index(name, "messages", columns)
    op.create_table(
        "entries",
        sa.Column("folder_id", sa.Integer, sa.ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("uid", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("modseq", sa.BigInteger, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("keywords", sa.Text, nullable=False),
    )
    op.create_index("ix_entries_message", "entries", ["message_id"])
    op.create_index("ix_entries_folder_modseq", "entries", ["folder_id", "modseq"])
    op.create_table(
        "expunged",
        sa.Column("folder_id", sa.Integer, sa.ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("uid", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("modseq", sa.BigInteger, nullable=False),
    )
    # The search index (SQLite FTS5). Text is tokenised in Python (yizhan.mail.tokens) so that Chinese words are
    # found; the table keeps no copy of the text (contentless), and its rowid is messages.id.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_text USING fts5("
            "acct, subject, sender, recipients, body, attachments, "
            "content='', tokenize='unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE message_text")
    for table in ("expunged", "entries", "messages", "folders", "aliases", "accounts", "domains"):
        op.drop_table(table)
