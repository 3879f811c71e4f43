"""The schema as SQLAlchemy Core tables: the journal, its head, and the projections.

Every projection row names the journal entry that last changed it (``last_seq``, a foreign key), so a
projection can never exist without its event. The migrations in ``migrations/versions`` create exactly
this schema; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from fillpath.state.sqltypes import AmountText, AssetIdType, BaseUnitsType, DecimalText

metadata = MetaData()


def _seq_ref(name: str = "last_seq", *, nullable: bool = False) -> Column[int]:
    return Column(name, BigInteger, ForeignKey("journal.seq"), nullable=nullable)


journal_head = Table(
    "journal_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="journal_head_one_row"),
)
"""One row: the last seq handed out. Locked and bumped in the appending transaction, so seq has no gaps."""

journal = Table(
    "journal",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("recv_ns", BigInteger, nullable=False),
    Column("venue_ts", BigInteger, nullable=True),
    Column("venue", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("venue", String(64), primary_key=True),
    Column("client_order_id", String(128), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("venue_order_id", String(128)),
    Column("symbol", String(64)),
    Column("side", String(8)),
    Column("qty", DecimalText),
    Column("limit_price", DecimalText),
    Column("filled_qty", DecimalText, nullable=False),
    Column("intent_id", String(128)),
    _seq_ref(),
)

fills = Table(
    "fills",
    metadata,
    Column("venue", String(64), primary_key=True),
    Column("trade_id", String(128), primary_key=True),
    Column("client_order_id", String(128), nullable=False),
    Column("qty", DecimalText, nullable=False),
    Column("price", DecimalText, nullable=False),
    Column("fee", DecimalText, nullable=False),
    Column("fee_asset", String(64)),
    Column("final", Boolean, nullable=False),
    _seq_ref("seq"),
)
"""The primary key ``(venue, trade_id)`` is the dedupe: a trade reported twice is one fill."""

transactions = Table(
    "transactions",
    metadata,
    Column("venue", String(64), primary_key=True),
    Column("tx_hash", String(80), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("sender", String(64)),
    Column("nonce", BigInteger),
    Column("block_number", BigInteger),
    Column("block_hash", String(80)),
    Column("confirmations", Integer),
    Column("replaced_by", String(80)),
    Column("reason", Text),
    Column("intent_id", String(128)),
    _seq_ref(),
)

intents = Table(
    "intents",
    metadata,
    Column("intent_id", String(128), primary_key=True),
    Column("venue", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("action", String(64)),
    Column("ref", String(128)),
    Column("asset_in", AssetIdType),
    Column("amount_in", AmountText),
    Column("asset_out", AssetIdType),
    Column("min_out", AmountText),
    Column("deadline_ns", BigInteger),
    Column("reason", Text),
    _seq_ref(),
    Column("owner", String(160)),
)

nonces = Table(
    "nonces",
    metadata,
    Column("venue", String(64), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("next_nonce", BigInteger, nullable=False),
    _seq_ref(),
)

ledger = Table(
    "ledger",
    metadata,
    Column("asset", AssetIdType, primary_key=True),
    Column("base_units", BaseUnitsType),
    Column("quantity", DecimalText),
    _seq_ref(),
    CheckConstraint("(base_units IS NULL) <> (quantity IS NULL)", name="ledger_one_amount"),
)
"""Holdings per asset@location: base units (on-chain) or an exact decimal quantity (exchange), never both."""

venue_flags = Table(
    "venue_flags",
    metadata,
    Column("venue", String(64), primary_key=True),
    Column("halted", Boolean, nullable=False),
    Column("degraded", Boolean, nullable=False),
    Column("reason", Text),
    _seq_ref(),
)

journal_identity = Table(
    "journal_identity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("journal_id", String(64), nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="journal_identity_one_row"),
)
"""One row: this journal's random id (written by migration 0002), which the data directory records too
(``state/identity.py``): a replaced or emptied journal is then recognized, never used as if it were the old one."""

transfers = Table(
    "transfers",
    metadata,
    Column("transfer_id", String(128), primary_key=True),
    Column("venue", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("transfer_kind", String(16)),
    Column("route", String(128)),
    Column("source", AssetIdType),
    Column("target", AssetIdType),
    Column("amount", AmountText),
    Column("expected_out", AmountText),
    Column("received", AmountText),
    Column("refunded", AmountText),
    Column("ref", String(128)),
    Column("landed_ref", String(128)),
    Column("reason", Text),
    Column("expected_arrival_ns", BigInteger),
    Column("deadline_ns", BigInteger),
    Column("since_ns", BigInteger, nullable=False),
    _seq_ref(),
    Column("accepted_ns", BigInteger),
    Column("ended_ns", BigInteger),
)
"""Transfers between locations (bridges, exchange deposits and withdrawals): what is in flight."""

PROJECTION_TABLES: tuple[Table, ...] = (
    orders, fills, transactions, intents, nonces, ledger, venue_flags, transfers
)  # fmt: skip

rebalance_runs = Table(
    "rebalance_runs",
    metadata,
    Column("run_id", String(160), primary_key=True),
    Column("policy", String(64), nullable=False),
    Column("slot_ns", BigInteger),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_ns", BigInteger, nullable=False),
    Column("finished_ns", BigInteger),
    Column("notional", DecimalText),
    Column("moves", Integer, nullable=False, default=0),
    Column("reason", Text),
    Column("owner", String(128)),
)
"""Rebalancing runs (``rebalance/``): one row per run id, inserted before anything is sent — the primary key is what
makes a scheduled slot run at most once across processes and restarts. Not a projection: never rebuilt."""
