"""Commands: what we ask of a venue, in the imperative. A command is not a fact; its events are."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.model.codec import Value, check_fields
from fillpath.model.errors import InvalidInput
from fillpath.model.orders import TimeInForce
from fillpath.model.sides import Side


class Command(Value):
    __slots__ = ()
    kind: ClassVar[str]
    venue: str


@dataclass(frozen=True, slots=True)
class SubmitOrder(Command):
    """``client_order_id`` is the idempotency key: a retry must reuse it, or it is a second order."""

    kind: ClassVar[str] = "submit_order"
    venue: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    limit_price: Decimal | None = None
    intent_id: str | None = None
    time_in_force: TimeInForce = TimeInForce.GTC

    def __post_init__(self) -> None:
        check_fields(self)
        if self.qty <= 0:
            raise InvalidInput("SubmitOrder.qty", f"{self.qty} is not positive")
        if self.limit_price is not None and self.limit_price <= 0:
            raise InvalidInput("SubmitOrder.limit_price", f"{self.limit_price} is not positive")


@dataclass(frozen=True, slots=True)
class CancelOrder(Command):
    kind: ClassVar[str] = "cancel_order"
    venue: str
    client_order_id: str
    venue_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendTransaction(Command):
    """Signed bytes: re-sending the same ``raw_tx`` is idempotent, re-signing is not."""

    kind: ClassVar[str] = "send_transaction"
    venue: str
    intent_id: str
    sender: str
    nonce: int
    tx_hash: str
    raw_tx: str


@dataclass(frozen=True, slots=True)
class ReplaceTransaction(Command):
    """Same sender and nonce as ``replaces``, higher fees (or a cancel: a zero-value self-transfer)."""

    kind: ClassVar[str] = "replace_transaction"
    venue: str
    replaces: str
    sender: str
    nonce: int
    tx_hash: str
    raw_tx: str


@dataclass(frozen=True, slots=True)
class SendBridgeTransfer(Command):
    """Deposit ``amount`` of ``source`` into an intent bridge on its chain (``venue``) for ``recipient`` to receive
    exactly ``output_amount`` of ``target`` by ``fill_deadline`` (the origin chain's seconds). Keyed by the intent
    id: the deposit is one signed transaction, never re-signed."""

    kind: ClassVar[str] = "send_bridge_transfer"
    venue: str
    intent_id: str
    route: str
    source: AssetId
    target: AssetId
    amount: int
    output_amount: int
    recipient: str
    fill_deadline: int

    def __post_init__(self) -> None:
        check_fields(self)
        if self.amount <= 0 or self.output_amount <= 0:
            raise InvalidInput("SendBridgeTransfer.amount", "a bridge transfer moves a positive amount")


@dataclass(frozen=True, slots=True)
class SendDeposit(Command):
    """Send ``amount`` of ``asset`` from our account on its chain (``venue``) to our deposit address at ``exchange``."""

    kind: ClassVar[str] = "send_deposit"
    venue: str
    intent_id: str
    exchange: str
    asset: AssetId
    amount: int
    address: str

    def __post_init__(self) -> None:
        check_fields(self)
        if self.amount <= 0:
            raise InvalidInput("SendDeposit.amount", f"{self.amount} is not positive")


@dataclass(frozen=True, slots=True)
class RequestWithdrawal(Command):
    """Ask exchange ``venue`` to send ``amount`` of ``coin`` (fee included) over ``network`` to ``address``.
    ``client_id`` (derived from the intent id) is the idempotency key the venue files it under."""

    kind: ClassVar[str] = "request_withdrawal"
    venue: str
    intent_id: str
    client_id: str
    coin: str
    network: str
    address: str
    amount: Decimal

    def __post_init__(self) -> None:
        check_fields(self)
        if self.amount <= 0:
            raise InvalidInput("RequestWithdrawal.amount", f"{self.amount} is not positive")


COMMAND_TYPES: tuple[type[Command], ...] = (
    SubmitOrder,
    CancelOrder,
    SendTransaction,
    ReplaceTransaction,
    SendBridgeTransfer,
    SendDeposit,
    RequestWithdrawal,
)
