"""The outbound queue: queued messages and their recipients.

Revision ID: 0002_queue
Revises: 0001
Create Date: 2026-11-24

A queued message points at an immutable blob (the bytes to send, DKIM-signed already when `signed` is true); each
recipient carries its own state, so a message leaves the queue only when every recipient is final (delivered,
bounced or expired).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_queue"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("queue_id", sa.String(40), nullable=False, unique=True),
        sa.Column("blob", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mail_from", sa.String(320), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("sign_domain", sa.String(253), nullable=True),
        sa.Column("signed", sa.Boolean, nullable=False),
        sa.Column("envelope_id", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_queue_messages_blob", "queue_messages", ["blob"])
    op.create_table(
        "queue_recipients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "message_id", sa.Integer, sa.ForeignKey("queue_messages.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_attempt_at", sa.BigInteger, nullable=True),
        sa.Column("last_reply", sa.Text, nullable=False),
        sa.Column("delay_notified", sa.Boolean, nullable=False),
        sa.UniqueConstraint("message_id", "address", name="uq_queue_recipients_message_address"),
    )
    op.create_index("ix_queue_recipients_due", "queue_recipients", ["status", "next_attempt_at"])
    op.create_index("ix_queue_recipients_message", "queue_recipients", ["message_id"])


def downgrade() -> None:
    op.drop_table("queue_recipients")
    op.drop_table("queue_messages")
