"""Events: what we recorded, in the past tense. The journal holds nothing else.

An event is a frozen value with a stable ``kind`` (the journal's type tag, never renamed) and a lossless
payload (:func:`event_to_payload`). The journal's envelope — ``seq``, ``recv_ns``, ``venue_ts`` — is not part
of the event: the store assigns it, and :class:`Recorded` carries both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount, Payload, Value, check_fields, from_payload, to_payload
from fillpath.model.errors import InvalidInput
from fillpath.model.orders import OrderState, TimeInForce
from fillpath.model.sides import Side


class Event(Value):
    """Base of every event. ``venue`` names the exchange, chain or location the event is about."""

    __slots__ = ()
    kind: ClassVar[str]
    venue: str


def _positive(owner: object, name: str, value: Decimal | int | None) -> None:
    if value is not None and value <= 0:
        raise InvalidInput(f"{type(owner).__name__}.{name}", f"{value} is not positive", "give a positive amount")


def _non_negative(owner: object, name: str, value: Decimal | int | None) -> None:
    if value is not None and value < 0:
        raise InvalidInput(f"{type(owner).__name__}.{name}", f"{value} is negative")


# --- orders (CEX) -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderSubmitted(Event):
    kind: ClassVar[str] = "order.submitted"
    venue: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    limit_price: Decimal | None = None
    intent_id: str | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    """GTC, or IOC for a marketable limit that protects a min-out (the rest expires instead of resting)."""

    def __post_init__(self) -> None:
        check_fields(self)
        _positive(self, "qty", self.qty)
        _positive(self, "limit_price", self.limit_price)


@dataclass(frozen=True, slots=True)
class OrderAccepted(Event):
    kind: ClassVar[str] = "order.accepted"
    venue: str
    client_order_id: str
    venue_order_id: str


@dataclass(frozen=True, slots=True)
class FillEvent(Event):
    """A trade against one of our orders. ``(venue, trade_id)`` identifies it: the journal keeps it once."""

    final: ClassVar[bool] = False
    venue: str
    client_order_id: str
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_asset: str | None = None

    def __post_init__(self) -> None:
        if type(self) is FillEvent:
            raise TypeError("record an OrderPartiallyFilled or an OrderFilled, not a bare FillEvent")
        check_fields(self)
        _positive(self, "qty", self.qty)
        _positive(self, "price", self.price)
        _non_negative(self, "fee", self.fee)


@dataclass(frozen=True, slots=True)
class OrderPartiallyFilled(FillEvent):
    kind: ClassVar[str] = "order.partially_filled"


@dataclass(frozen=True, slots=True)
class OrderFilled(FillEvent):
    """The fill that completed the order."""

    kind: ClassVar[str] = "order.filled"
    final: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class OrderCanceled(Event):
    kind: ClassVar[str] = "order.canceled"
    venue: str
    client_order_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRejected(Event):
    kind: ClassVar[str] = "order.rejected"
    venue: str
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderExpired(Event):
    kind: ClassVar[str] = "order.expired"
    venue: str
    client_order_id: str


@dataclass(frozen=True, slots=True)
class OrderUnknown(Event):
    """We do not know what became of the order (timeout, dropped connection): ask the venue, never guess."""

    kind: ClassVar[str] = "order.unknown"
    venue: str
    client_order_id: str
    reason: str


# --- transactions (EVM) -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TxBroadcast(Event):
    kind: ClassVar[str] = "tx.broadcast"
    venue: str
    tx_hash: str
    sender: str
    nonce: int
    intent_id: str | None = None
    raw: str | None = None
    """The signed bytes ("0x…"; public once sent, no secret): a restarted process can send them again or fee-bump
    them. Journals written before it hold none: their transactions are followed, not re-sent or replaced."""

    def __post_init__(self) -> None:
        check_fields(self)
        _non_negative(self, "nonce", self.nonce)


@dataclass(frozen=True, slots=True)
class TxMined(Event):
    """Included in a block (not yet final: a reorg can undo it)."""

    kind: ClassVar[str] = "tx.mined"
    venue: str
    tx_hash: str
    block_number: int
    block_hash: str


@dataclass(frozen=True, slots=True)
class TxConfirmed(Event):
    kind: ClassVar[str] = "tx.confirmed"
    venue: str
    tx_hash: str
    block_number: int
    confirmations: int


@dataclass(frozen=True, slots=True)
class TxReverted(Event):
    kind: ClassVar[str] = "tx.reverted"
    venue: str
    tx_hash: str
    block_number: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TxReorged(Event):
    """The block that held the transaction left the canonical chain; it is pending again."""

    kind: ClassVar[str] = "tx.reorged"
    venue: str
    tx_hash: str
    block_number: int


@dataclass(frozen=True, slots=True)
class TxDropped(Event):
    kind: ClassVar[str] = "tx.dropped"
    venue: str
    tx_hash: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TxReplaced(Event):
    kind: ClassVar[str] = "tx.replaced"
    venue: str
    tx_hash: str
    replacement_hash: str


@dataclass(frozen=True, slots=True)
class NonceAllocated(Event):
    kind: ClassVar[str] = "nonce.allocated"
    venue: str
    address: str
    nonce: int

    def __post_init__(self) -> None:
        check_fields(self)
        _non_negative(self, "nonce", self.nonce)


# --- intents ------------------------------------------------------------------------------------------------


class IntentOutcome(StrEnum):
    """Known good or known bad: an intent is resolved only on venue evidence, never on a timeout."""

    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class IntentCreated(Event):
    """Written durably *before* a command leaves the process, so a crash leaves a trail to reconcile."""

    kind: ClassVar[str] = "intent.created"
    venue: str
    intent_id: str
    action: str
    ref: str | None = None
    asset_in: AssetId | None = None
    amount_in: Amount | None = None
    asset_out: AssetId | None = None
    min_out: Amount | None = None
    deadline_ns: int | None = None
    owner: str | None = None
    """The trading process that created it (``host:pid:start``); the store stamps it. Recovery by another
    process first claims the intent from a dead owner (``IntentClaimed``), so an intent ends exactly once."""


@dataclass(frozen=True, slots=True)
class IntentClaimed(Event):
    """A trading process takes over an open intent whose owner died; the journal admits one claim per owner."""

    kind: ClassVar[str] = "intent.claimed"
    venue: str
    intent_id: str
    owner: str
    previous: str | None


@dataclass(frozen=True, slots=True)
class IntentResolved(Event):
    kind: ClassVar[str] = "intent.resolved"
    venue: str
    intent_id: str
    outcome: IntentOutcome
    reason: str | None = None


# --- executions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecutionStarted(Event):
    """One swap decision: the request, the plan (``fillpath.plan/1`` JSON) and the arrival prices it was made at.

    ``arrival`` is JSON ``{"asset": "mid price in the numeraire"}`` for the plan's assets, with their decimals, so
    the P&L decomposition can be recomputed from the journal alone.
    """

    kind: ClassVar[str] = "execution.started"
    venue: str
    execution_id: str
    sell: str
    buy: str
    amount_in: int
    mode: str
    plan: str
    arrival: str
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class ExecutionFinished(Event):
    """What became of it: ``status`` done / partial / failed / dry_run; ``result`` is JSON (legs, totals, P&L)."""

    kind: ClassVar[str] = "execution.finished"
    venue: str
    execution_id: str
    status: str
    expected_out: int
    realized_out: int
    result: str


# --- ledger, venues, clocks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BalanceAdjusted(Event):
    """Our holding of ``asset`` changed by ``delta`` (base units on-chain, a Decimal on an exchange)."""

    kind: ClassVar[str] = "balance.adjusted"
    venue: str
    asset: AssetId
    delta: Amount
    reason: str

    def __post_init__(self) -> None:
        check_fields(self)
        if self.asset.location != self.venue:
            raise InvalidInput(
                "BalanceAdjusted.venue",
                f"{self.asset} is not held at {self.venue!r}",
                "venue is the location",
            )


@dataclass(frozen=True, slots=True)
class ExternalFlow(Event):
    """Money that moved in or out of our holding without fillpath (a treasury deposit, a withdrawal made on the
    exchange's website, ``lab fund``), recognized from the venue's own evidence and booked like an adjustment.

    ``evidence_id`` is unique per piece of evidence (``<tx hash>:<log index>`` for a token transfer,
    ``native:<block hash>`` for a native balance change, ``deposit:<id>`` / ``withdrawal:<id>`` on an exchange), so
    the same evidence is never booked twice; ``evidence`` says what was seen, for a person to check."""

    kind: ClassVar[str] = "external.flow"
    venue: str
    asset: AssetId
    delta: Amount
    evidence_id: str
    evidence: str

    def __post_init__(self) -> None:
        check_fields(self)
        if self.asset.location != self.venue:
            raise InvalidInput(
                "ExternalFlow.venue", f"{self.asset} is not held at {self.venue!r}", "venue is the location"
            )


@dataclass(frozen=True, slots=True)
class VenueIdentified(Event):
    """The venue's identity as reconciliation read it (``chains``: chain id, genesis hash and a dev node's instance;
    an exchange: its account id). ``epoch`` counts the lab venue's lives: a lab chain or simulator that came back as
    another one starts a new epoch, and ``archived`` holds the previous epoch's ledger (``ASSET=AMOUNT`` joined by
    spaces), which stays in the journal. ``previous`` is the identity it replaced, if any."""

    kind: ClassVar[str] = "venue.identified"
    venue: str
    identity: str
    epoch: int
    previous: str | None = None
    archived: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VenueChecked(Event):
    """Reconciliation found the ledger equal to the venue at ``mark`` (a block number on a chain, a time in ms on an
    exchange): evidence of external flows is looked for after the last such mark. Journaled only when the ledger
    moved since the previous mark, so an idle venue adds nothing."""

    kind: ClassVar[str] = "venue.checked"
    venue: str
    mark: int


@dataclass(frozen=True, slots=True)
class BalancesAccepted(Event):
    """An operator took the venue's figures as truth for one location (``fillpath reconcile --accept``): who, why,
    and the ledger before and after (``ASSET=AMOUNT`` joined by spaces). The adjustments follow as
    ``BalanceAdjusted`` in the same commit."""

    kind: ClassVar[str] = "balances.accepted"
    venue: str
    operator: str
    reason: str
    before: str
    after: str
    identity: str | None = None


@dataclass(frozen=True, slots=True)
class DriftDetected(Event):
    """A venue's report disagrees with our ledger; reconciliation decides what to do."""

    kind: ClassVar[str] = "drift.detected"
    venue: str
    asset: AssetId
    expected: Amount
    observed: Amount
    source: str


@dataclass(frozen=True, slots=True)
class OrderDriftDetected(Event):
    """A venue lists an order open that our journal does not hold open: one we never placed
    (``recorded_state`` None) or one we hold as finished. Nothing is canceled or booked because of it: an order
    we did not place may be a person's, and a human decides."""

    kind: ClassVar[str] = "order.drift_detected"
    venue: str
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None
    filled_qty: Decimal
    recorded_state: OrderState | None
    source: str


@dataclass(frozen=True, slots=True)
class VenueDegraded(Event):
    kind: ClassVar[str] = "venue.degraded"
    venue: str
    reason: str


@dataclass(frozen=True, slots=True)
class VenueHalted(Event):
    kind: ClassVar[str] = "venue.halted"
    venue: str
    reason: str


@dataclass(frozen=True, slots=True)
class VenueResumed(Event):
    """Clears both the halted and the degraded flag."""

    kind: ClassVar[str] = "venue.resumed"
    venue: str
    reason: str | None = None


class ClockProblem(StrEnum):
    BACKWARDS = "backwards"
    DRIFT = "drift"


@dataclass(frozen=True, slots=True)
class ClockDivergence(Event):
    """A venue's clock ran backwards, or its offset from our receive time passed ``bound_ns``."""

    kind: ClassVar[str] = "clock.divergence"
    venue: str
    problem: ClockProblem
    venue_ts: int
    recv_ns: int
    offset_ns: int
    bound_ns: int


# --- transfers between locations (bridges, exchange deposits and withdrawals) --------------------------------


class TransferKind(StrEnum):
    BRIDGE = "bridge"
    """Chain to chain through an intent bridge: a deposit on the source, a relayer's fill on the target."""
    DEPOSIT = "deposit"
    """Chain to exchange: a transfer to the account's deposit address, credited after confirmations."""
    WITHDRAWAL = "withdrawal"
    """Exchange to chain: the exchange sends from its hot wallet, less its fee."""


@dataclass(frozen=True, slots=True)
class TransferRequested(Event):
    """We are about to move ``amount`` of ``source`` to ``target`` (written with the intent, before the command
    leaves). ``transfer_id`` is the intent id. ``amount`` is in the source's kind of amount (base units on a chain,
    a Decimal on an exchange), ``expected_out`` in the target's. Times are local nanoseconds."""

    kind: ClassVar[str] = "transfer.requested"
    venue: str
    transfer_id: str
    transfer_kind: TransferKind
    route: str
    source: AssetId
    target: AssetId
    amount: Amount
    expected_out: Amount
    expected_arrival_ns: int | None = None
    deadline_ns: int | None = None

    def __post_init__(self) -> None:
        check_fields(self)
        _positive(self, "amount", self.amount)
        _non_negative(self, "expected_out", self.expected_out)
        if self.source.location != self.venue:
            raise InvalidInput(
                "TransferRequested.venue", f"{self.source} is not at {self.venue!r}", "venue is the source"
            )


@dataclass(frozen=True, slots=True)
class TransferAccepted(Event):
    """The source venue took the funds (the deposit transaction is final, the exchange accepted the withdrawal):
    from here they are in flight. ``ref``: the venue's id for it (deposit id, withdrawal id, transaction hash)."""

    kind: ClassVar[str] = "transfer.accepted"
    venue: str
    transfer_id: str
    ref: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class TransferRejected(Event):
    """Known not to have moved anything (refused, reverted, never sent): the funds are still at the source."""

    kind: ClassVar[str] = "transfer.rejected"
    venue: str
    transfer_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class TransferCompleted(Event):
    """``received`` arrived at the target (``venue`` is the target location); ``ref`` is the landing's evidence
    (the fill or withdrawal transaction, the exchange's deposit record)."""

    kind: ClassVar[str] = "transfer.completed"
    venue: str
    transfer_id: str
    received: Amount
    ref: str | None = None

    def __post_init__(self) -> None:
        check_fields(self)
        _non_negative(self, "received", self.received)


@dataclass(frozen=True, slots=True)
class TransferExpired(Event):
    """The transfer missed its deadline at the target (no fill by the fill deadline, a withdrawal the exchange
    failed): nothing will arrive; a refund to the source is expected."""

    kind: ClassVar[str] = "transfer.expired"
    venue: str
    transfer_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class TransferRefunded(Event):
    """The funds came back to the source (``venue``): ``refunded`` in the source's kind of amount."""

    kind: ClassVar[str] = "transfer.refunded"
    venue: str
    transfer_id: str
    refunded: Amount
    ref: str | None = None

    def __post_init__(self) -> None:
        check_fields(self)
        _non_negative(self, "refunded", self.refunded)


@dataclass(frozen=True, slots=True)
class TransferUnknown(Event):
    """We do not know (a request without a reply, a landing we stopped waiting for): ask the venues, never guess."""

    kind: ClassVar[str] = "transfer.unknown"
    venue: str
    transfer_id: str
    reason: str


TRANSFER_EVENTS: tuple[type[Event], ...] = (
    TransferRequested,
    TransferAccepted,
    TransferRejected,
    TransferCompleted,
    TransferExpired,
    TransferRefunded,
    TransferUnknown,
)
# --- the service (``fillpath run``) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceStarted(Event):
    """A ``fillpath run`` process took the data directory: what happened before it was another process's."""

    kind: ClassVar[str] = "service.started"
    venue: str
    pid: int
    url: str
    version: str


@dataclass(frozen=True, slots=True)
class ServiceStopped(Event):
    """The service stopped cleanly: its background work was stopped and what was in flight is journaled (a kill
    leaves a ``ServiceStarted`` without this; the next start recovers from the journal)."""

    kind: ClassVar[str] = "service.stopped"
    venue: str
    pid: int
    reason: str
    uptime_ms: int


@dataclass(frozen=True, slots=True)
class RebalanceRunStarted(Event):
    """A rebalancing run claimed its id (policy and time slot) before sending anything: a slot runs at most once."""

    kind: ClassVar[str] = "rebalance.started"
    venue: str
    run_id: str
    policy: str
    slot: str
    """The slot's time (ISO, UTC), or ``manual``."""
    mode: str


@dataclass(frozen=True, slots=True)
class RebalanceRunFinished(Event):
    """How a rebalancing run ended: ``done``, ``partial``, ``failed``, ``nothing`` (inside its bands), ``halted``,
    ``limited`` (the daily notional), ``missed`` (a slot no service ran), or ``interrupted`` (its process died)."""

    kind: ClassVar[str] = "rebalance.finished"
    venue: str
    run_id: str
    policy: str
    status: str
    notional: str
    moves: int
    reason: str


EVENT_TYPES: tuple[type[Event], ...] = (
    OrderSubmitted,
    OrderAccepted,
    OrderPartiallyFilled,
    OrderFilled,
    OrderCanceled,
    OrderRejected,
    OrderExpired,
    OrderUnknown,
    TxBroadcast,
    TxMined,
    TxConfirmed,
    TxReverted,
    TxReorged,
    TxDropped,
    TxReplaced,
    NonceAllocated,
    IntentCreated,
    IntentClaimed,
    IntentResolved,
    ExecutionStarted,
    ExecutionFinished,
    BalanceAdjusted,
    DriftDetected,
    ExternalFlow,
    VenueIdentified,
    VenueChecked,
    BalancesAccepted,
    VenueDegraded,
    VenueHalted,
    VenueResumed,
    ClockDivergence,
    OrderDriftDetected,
    *TRANSFER_EVENTS,
    ServiceStarted,
    ServiceStopped,
    RebalanceRunStarted,
    RebalanceRunFinished,
)


@cache
def _by_kind() -> Mapping[str, type[Event]]:
    table = {t.kind: t for t in EVENT_TYPES}
    if len(table) != len(EVENT_TYPES):
        raise RuntimeError("two event types share a kind")
    return table


def event_type(kind: str) -> type[Event]:
    try:
        return _by_kind()[kind]
    except KeyError:
        raise InvalidInput("kind", f"{kind!r} is not an event kind") from None


def event_to_payload(event: Event) -> Payload:
    """JSON-safe and lossless: ``event_from_payload(e.kind, event_to_payload(e)) == e``."""
    return to_payload(event)


def event_from_payload(kind: str, payload: Mapping[str, object]) -> Event:
    return from_payload(event_type(kind), payload)


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event as the journal holds it. Order is ``seq`` alone; the clocks are evidence, not order."""

    seq: int
    recv_ns: int
    venue_ts: int | None
    event: Event
