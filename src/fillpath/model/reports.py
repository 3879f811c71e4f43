"""Reports: what a venue claims. Reconciliation compares them with the journal and records events.

``venue_ts`` is the venue's own timestamp in nanoseconds, when it gave one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount, Value
from fillpath.model.sides import Side


class Report(Value):
    __slots__ = ()
    kind: ClassVar[str]
    venue: str


@dataclass(frozen=True, slots=True)
class BalanceReport(Report):
    kind: ClassVar[str] = "balance"
    venue: str
    asset: AssetId
    amount: Amount
    venue_ts: int | None = None


@dataclass(frozen=True, slots=True)
class OrderStatusReport(Report):
    kind: ClassVar[str] = "order_status"
    venue: str
    client_order_id: str
    venue_order_id: str | None
    status: str
    filled_qty: Decimal
    venue_ts: int | None = None


@dataclass(frozen=True, slots=True)
class FillReport(Report):
    kind: ClassVar[str] = "fill"
    venue: str
    client_order_id: str
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_asset: str | None = None
    venue_ts: int | None = None


@dataclass(frozen=True, slots=True)
class OpenOrderReport(Report):
    """An order the venue lists as open, in the venue's own words: it may be one we never placed."""

    kind: ClassVar[str] = "open_order"
    venue: str
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None
    filled_qty: Decimal
    venue_ts: int | None = None


@dataclass(frozen=True, slots=True)
class TradeReport(Report):
    """One of the account's trades as the venue lists it. It names the venue's order id only (not every venue's
    trade list carries the client id): who placed the order is for the reader to work out."""

    kind: ClassVar[str] = "trade"
    venue: str
    venue_order_id: str
    symbol: str
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_asset: str | None = None
    venue_ts: int | None = None

    def fill(self, client_order_id: str) -> FillReport:
        """The trade as a fill of our order ``client_order_id``."""
        return FillReport(
            self.venue, client_order_id, self.trade_id, self.qty, self.price, self.fee, self.fee_asset, self.venue_ts
        )


@dataclass(frozen=True, slots=True)
class ReceiptReport(Report):
    kind: ClassVar[str] = "receipt"
    venue: str
    tx_hash: str
    block_number: int
    block_hash: str
    success: bool
    gas_used: int
    venue_ts: int | None = None


class TransferStatus(StrEnum):
    """A venue's word on one transfer, in fillpath's terms (each venue's codes map onto these)."""

    PENDING = "pending"
    """Taken by the source, not arrived (a deposit awaiting confirmations, a withdrawal processing)."""
    CREDITED = "credited"
    """Arrived: filled on the target chain, credited to the exchange account, sent and mined."""
    FAILED = "failed"
    """The venue will not deliver it (refused, failed, cancelled, expired unfilled): refund expected."""
    REFUNDED = "refunded"
    """Returned to the source."""


@dataclass(frozen=True, slots=True)
class TransferStatusReport(Report):
    """One transfer as a venue reports it: the exchange's deposit or withdrawal record, a bridge's deposit and fill.

    ``ref``: the venue's id; ``client_id``: ours where the venue keeps one (a client withdrawal id);
    ``amount`` and ``fee`` in the venue's kind of amount (exchange: Decimal); ``tx_hash`` on the chain."""

    kind: ClassVar[str] = "transfer_status"
    venue: str
    ref: str
    status: TransferStatus
    raw_status: str
    asset: str
    amount: Amount
    fee: Amount | None = None
    client_id: str | None = None
    tx_hash: str | None = None
    address: str | None = None
    network: str | None = None
    venue_ts: int | None = None


@dataclass(frozen=True, slots=True)
class FlowReport(Report):
    """Money the venue shows moving in (``delta`` > 0) or out of our holding, with its evidence: a token transfer
    log, a native balance change in a block, an exchange deposit or withdrawal record. Reconciliation books the
    ones that are not ours as ``ExternalFlow`` (``evidence_id`` keeps each booked once)."""

    kind: ClassVar[str] = "flow"
    venue: str
    asset: AssetId
    delta: Amount
    evidence_id: str
    evidence: str
    refs: str = ""
    """Space-separated ids this flow may be known by in our journal (a transaction hash, a venue transfer id):
    a flow of ours (booked by execution) is not external."""
    near_mark: bool = False
    """Its time is too coarse to say whether it came after the mark the search started from (a withdrawal stamped
    in whole seconds, found in the second before that mark): it may already be in the balances the ledger agreed
    with there. Reconciliation books it only when the difference needs it."""


REPORT_TYPES: tuple[type[Report], ...] = (
    FlowReport,
    BalanceReport,
    OrderStatusReport,
    FillReport,
    ReceiptReport,
    OpenOrderReport,
    TradeReport,
    TransferStatusReport,
)
