"""The journal's identity: one row with a random journal id, so a journal that was replaced, restored from
elsewhere or emptied is recognized as not the one the data directory recorded (``state/identity.py``).

A journal created before this revision gets its id here, when it is upgraded (after an automatic backup).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "journal_identity",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("journal_id", sa.String(64), nullable=False),
        sa.Column("created_ns", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="journal_identity_one_row"),
    )
    op.bulk_insert(table, [{"id": 1, "journal_id": uuid.uuid4().hex, "created_ns": time.time_ns()}])


def downgrade() -> None:
    op.drop_table("journal_identity")
