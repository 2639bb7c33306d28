"""Indexes for the webmail's message list: sort by size, and the unread and flagged entries of a folder.

Revision ID: 0005_web_indexes
Revises: 0004_web_data
Create Date: 2026-12-10

Only indexes: no row changes, so upgrading keeps all mail. The partial indexes hold only the entries without
\\Seen (bit 1) or with \\Flagged (bit 4), so "unread" and "starred" lists of a folder of 100,000 messages read
just those entries; their conditions are written exactly as store/weblist.py writes them (SQLite uses a partial
index only when the query repeats its condition). Partial indexes work on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_web_indexes"
down_revision = "0004_web_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_account_size", "messages", ["account_id", "size", "id"])
    op.create_index("ix_entries_unseen", "entries", ["folder_id", "uid"],
                    sqlite_where=sa.text("(flags & 1) = 0"), postgresql_where=sa.text("(flags & 1) = 0"))
    op.create_index("ix_entries_flagged", "entries", ["folder_id", "uid"],
                    sqlite_where=sa.text("(flags & 4) != 0"), postgresql_where=sa.text("(flags & 4) != 0"))


def downgrade() -> None:
    op.drop_index("ix_entries_flagged", table_name="entries")
    op.drop_index("ix_entries_unseen", table_name="entries")
    op.drop_index("ix_messages_account_size", table_name="messages")
