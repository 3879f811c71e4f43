"""Projection rows as frozen values: what the hot path reads from memory and the tables hold on disk.

Field names are the column names of :mod:`fillpath.state.tables`. ``last_seq`` is the journal entry that
last changed the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.events import TransferKind
from fillpath.model.orders import OrderState
from fillpath.model.sides import Side


class TxStatus(StrEnum):
    BROADCAST = "broadcast"
    MINED = "mined"
    CONFIRMED = "confirmed"
    REVERTED = "reverted"
    REORGED = "reorged"
    DROPPED = "dropped"
    REPLACED = "replaced"


class TransferState(StrEnum):
    """See ``state/transfers.py`` for the machine."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    COMPLETED = "completed"
    REJECTED = "rejected"
    REFUNDED = "refunded"


class IntentStatus(StrEnum):
    OPEN = "open"
    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order we placed. Fields we only learn from our own ``OrderSubmitted`` may be None until it lands."""

    venue: str
    client_order_id: str
    status: OrderState
    venue_order_id: str | None
    symbol: str | None
    side: Side | None
    qty: Decimal | None
    limit_price: Decimal | None
    filled_qty: Decimal
    intent_id: str | None
    last_seq: int


@dataclass(frozen=True, slots=True)
class FillRecord:
    venue: str
    trade_id: str
    client_order_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str | None
    final: bool
    seq: int


@dataclass(frozen=True, slots=True)
class TxRecord:
    venue: str
    tx_hash: str
    status: TxStatus
    sender: str | None
    nonce: int | None
    block_number: int | None
    block_hash: str | None
    confirmations: int | None
    replaced_by: str | None
    reason: str | None
    intent_id: str | None
    last_seq: int


@dataclass(frozen=True, slots=True)
class IntentRecord:
    intent_id: str
    venue: str
    status: IntentStatus
    action: str | None
    ref: str | None
    asset_in: AssetId | None
    amount_in: Amount | None
    asset_out: AssetId | None
    min_out: Amount | None
    deadline_ns: int | None
    reason: str | None
    last_seq: int
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class NonceRecord:
    """The next nonce to use for ``address`` on chain ``venue``: one past the highest allocated."""

    venue: str
    address: str
    next_nonce: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class BalanceRecord:
    asset: AssetId
    amount: Amount
    last_seq: int


@dataclass(frozen=True, slots=True)
class VenueFlag:
    """Whether a venue may be used. A venue never flagged is neither halted nor degraded (``last_seq`` 0)."""

    venue: str
    halted: bool
    degraded: bool
    reason: str | None
    last_seq: int


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """One transfer between locations (``transfer_id`` is its intent id). ``amount`` left the source (its kind of
    amount), ``received`` arrived at the target (its kind), ``refunded`` came back. Times are local ns:
    ``since_ns`` the request, ``accepted_ns`` when the source took the funds, ``ended_ns`` when it ended."""

    transfer_id: str
    venue: str
    state: TransferState
    transfer_kind: TransferKind | None
    route: str | None
    source: AssetId | None
    target: AssetId | None
    amount: Amount | None
    expected_out: Amount | None
    received: Amount | None
    refunded: Amount | None
    ref: str | None
    landed_ref: str | None
    reason: str | None
    expected_arrival_ns: int | None
    deadline_ns: int | None
    since_ns: int
    last_seq: int
    accepted_ns: int | None = None
    ended_ns: int | None = None
