"""Per-account data for the web and API: contacts and groups, notes, settings and signatures, remote-image
senders, personal API tokens; the admin audit log and the delivery log.

Revision ID: 0004_web_data
Revises: 0003_directory_version
Create Date: 2026-12-08

Only new tables: no existing row changes, so upgrading keeps all mail. The audit log is append-only: triggers
refuse UPDATE and DELETE on it (SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_web_data"
down_revision = "0003_directory_version"
branch_labels = None
depends_on = None

# Prefix ranges over search keys must compare bytes on PostgreSQL too (see schema.SEARCH_KEY).
_KEY = sa.String(320).with_variant(sa.String(320, collation="C"), "postgresql")


def _account_fk() -> sa.Column[int]:
    return sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        _account_fk(),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("emails", sa.Text, nullable=False),
        sa.Column("phones", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("sort_key", _KEY, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_contacts_account_sort", "contacts", ["account_id", "sort_key"])
    op.create_table(
        "contact_keys",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", _KEY, primary_key=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
    )
    op.create_index("ix_contact_keys_contact", "contact_keys", ["contact_id"])
    op.create_table(
        "contact_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        _account_fk(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("account_id", "name", name="uq_contact_groups_account_name"),
    )
    op.create_table(
        "contact_group_members",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("contact_groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_contact_group_members_contact", "contact_group_members", ["contact_id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        _account_fk(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_notes_account_updated", "notes", ["account_id", "updated_at"])
    op.create_table(
        "account_settings",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer, primary_key=True),
        _account_fk(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_signatures_account", "signatures", ["account_id"])
    op.create_table(
        "image_senders",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sender", sa.String(320), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        _account_fk(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hint", sa.String(16), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_used_at", sa.BigInteger, nullable=True),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_api_tokens_account", "api_tokens", ["account_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "at"])
    _append_only("audit_log")
    op.create_table(
        "delivery_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("message_id", sa.String(500), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_delivery_log_at", "delivery_log", ["at"])
    op.create_index("ix_delivery_log_message_id", "delivery_log", ["message_id"])
    op.create_table(
        "delivery_log_addresses",
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("log_id", sa.Integer, sa.ForeignKey("delivery_log.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_delivery_log_addresses_log", "delivery_log_addresses", ["log_id"])


def _append_only(table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on `table`."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
        op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in ("delivery_log_addresses", "delivery_log", "audit_log", "api_tokens", "image_senders",
                  "signatures", "account_settings", "notes", "contact_group_members", "contact_groups",
                  "contact_keys", "contacts"):
        op.drop_table(table)
