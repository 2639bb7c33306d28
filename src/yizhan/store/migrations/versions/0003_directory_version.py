"""The directory version: one counter bumped by every change to domains, accounts and aliases.

Revision ID: 0003_directory_version
Revises: 0002_queue
Create Date: 2026-12-01

A running server keeps the directory in memory (services/dircache.py) and re-reads it only when this counter
moved, so a change made by the CLI in another process is seen without a query per recipient. The single row
(id 1) is created here; the store bumps it in the same transaction as the change it announces.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_directory_version"
down_revision = "0002_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])


def downgrade() -> None:
    op.drop_table("directory_version")
