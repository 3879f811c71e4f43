"""The journal, its one-row head, and the projections (orders, fills, transactions, intents, nonces, ledger,
venue flags).

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fillpath.state.sqltypes import AmountText, AssetIdType, BaseUnitsType, DecimalText

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _last_seq(name: str = "last_seq") -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, sa.ForeignKey("journal.seq"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="journal_head_one_row"),
    )
    op.execute("INSERT INTO journal_head (id, last_seq) VALUES (1, 0)")
    op.create_table(
        "journal",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("recv_ns", sa.BigInteger, nullable=False),
        sa.Column("venue_ts", sa.BigInteger, nullable=True),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("venue", sa.String(64), primary_key=True),
        sa.Column("client_order_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("venue_order_id", sa.String(128)),
        sa.Column("symbol", sa.String(64)),
        sa.Column("side", sa.String(8)),
        sa.Column("qty", DecimalText),
        sa.Column("limit_price", DecimalText),
        sa.Column("filled_qty", DecimalText, nullable=False),
        sa.Column("intent_id", sa.String(128)),
        _last_seq(),
    )
    op.create_table(
        "fills",
        sa.Column("venue", sa.String(64), primary_key=True),
        sa.Column("trade_id", sa.String(128), primary_key=True),
        sa.Column("client_order_id", sa.String(128), nullable=False),
        sa.Column("qty", DecimalText, nullable=False),
        sa.Column("price", DecimalText, nullable=False),
        sa.Column("fee", DecimalText, nullable=False),
        sa.Column("fee_asset", sa.String(64)),
        sa.Column("final", sa.Boolean, nullable=False),
        _last_seq("seq"),
    )
    op.create_table(
        "transactions",
        sa.Column("venue", sa.String(64), primary_key=True),
        sa.Column("tx_hash", sa.String(80), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("sender", sa.String(64)),
        sa.Column("nonce", sa.BigInteger),
        sa.Column("block_number", sa.BigInteger),
        sa.Column("block_hash", sa.String(80)),
        sa.Column("confirmations", sa.Integer),
        sa.Column("replaced_by", sa.String(80)),
        sa.Column("reason", sa.Text),
        sa.Column("intent_id", sa.String(128)),
        _last_seq(),
    )
    op.create_table(
        "intents",
        sa.Column("intent_id", sa.String(128), primary_key=True),
        sa.Column("venue", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64)),
        sa.Column("ref", sa.String(128)),
        sa.Column("asset_in", AssetIdType),
        sa.Column("amount_in", AmountText),
        sa.Column("asset_out", AssetIdType),
        sa.Column("min_out", AmountText),
        sa.Column("deadline_ns", sa.BigInteger),
        sa.Column("reason", sa.Text),
        _last_seq(),
    )
    op.create_table(
        "nonces",
        sa.Column("venue", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("next_nonce", sa.BigInteger, nullable=False),
        _last_seq(),
    )
    op.create_table(
        "ledger",
        sa.Column("asset", AssetIdType, primary_key=True),
        sa.Column("base_units", BaseUnitsType),
        sa.Column("quantity", DecimalText),
        _last_seq(),
        sa.CheckConstraint("(base_units IS NULL) <> (quantity IS NULL)", name="ledger_one_amount"),
    )
    op.create_table(
        "venue_flags",
        sa.Column("venue", sa.String(64), primary_key=True),
        sa.Column("halted", sa.Boolean, nullable=False),
        sa.Column("degraded", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        _last_seq(),
    )


def downgrade() -> None:
    for name in ("venue_flags", "ledger", "nonces", "intents", "transactions", "fills", "orders"):
        op.drop_table(name)
    op.drop_table("journal")
    op.drop_table("journal_head")
