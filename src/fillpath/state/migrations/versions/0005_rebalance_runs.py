"""Rebalancing runs: one row per run id (a policy and its time slot), claimed before anything is sent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fillpath.state.sqltypes import DecimalText

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rebalance_runs",
        sa.Column("run_id", sa.String(160), primary_key=True),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("slot_ns", sa.BigInteger),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_ns", sa.BigInteger, nullable=False),
        sa.Column("finished_ns", sa.BigInteger),
        sa.Column("notional", DecimalText),
        sa.Column("moves", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("owner", sa.String(128)),
    )


def downgrade() -> None:
    op.drop_table("rebalance_runs")
