"""Reports: what a venue claims. Reconciliation compares them with the journal and records events.

``venue_ts`` is the venue's own timestamp in nanoseconds, when it gave one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount, Value


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
class ReceiptReport(Report):
    kind: ClassVar[str] = "receipt"
    venue: str
    tx_hash: str
    block_number: int
    block_hash: str
    success: bool
    gas_used: int
    venue_ts: int | None = None


REPORT_TYPES: tuple[type[Report], ...] = (BalanceReport, OrderStatusReport, FillReport, ReceiptReport)
