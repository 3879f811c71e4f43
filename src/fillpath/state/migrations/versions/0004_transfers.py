"""The transfers projection: funds in flight between locations (bridges, exchange deposits and withdrawals).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fillpath.state.sqltypes import AmountText, AssetIdType

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.String(128), primary_key=True),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("transfer_kind", sa.String(16)),
        sa.Column("route", sa.String(128)),
        sa.Column("source", AssetIdType),
        sa.Column("target", AssetIdType),
        sa.Column("amount", AmountText),
        sa.Column("expected_out", AmountText),
        sa.Column("received", AmountText),
        sa.Column("refunded", AmountText),
        sa.Column("ref", sa.String(128)),
        sa.Column("landed_ref", sa.String(128)),
        sa.Column("reason", sa.Text),
        sa.Column("expected_arrival_ns", sa.BigInteger),
        sa.Column("deadline_ns", sa.BigInteger),
        sa.Column("since_ns", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, sa.ForeignKey("journal.seq"), nullable=False),
        sa.Column("accepted_ns", sa.BigInteger),
        sa.Column("ended_ns", sa.BigInteger),
    )


def downgrade() -> None:
    op.drop_table("transfers")
