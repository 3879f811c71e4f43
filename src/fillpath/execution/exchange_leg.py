"""One plan leg on an exchange book → one protected market order, journaled, settled and booked.

A plan leg says "give ``amount_in`` of one side of the book, expect ``amount_out`` of the other, at least
``min_out``". On the wire it becomes a LIMIT IOC order for the plan's quantity with the worst price that still
delivers ``min_out`` after the taker fee: marketable like a market order, but it can never fill below min-out
(what does not fill at that price expires; the engine re-plans the rest). Buying spends quote: the quantity is
the lots the plan's quote buys on the snapshot's asks, so the order never spends more than the plan gave it.

The intent (named by the engine; its ``ref`` is the client order id derived from it) is committed before the
order; the order's own events follow from the :class:`OrderDriver`; the ledger moves by exactly what the fills
say (Decimal, as the venue counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

from fillpath.cex.orders import TrackedOrder
from fillpath.model.amounts import add_exact, from_base_units
from fillpath.model.assets import AssetId
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import InvalidInput
from fillpath.model.events import BalanceAdjusted, Event, IntentCreated, IntentOutcome, IntentResolved
from fillpath.model.orders import OrderState, TimeInForce
from fillpath.model.sides import Side
from fillpath.router.plan import PlanLeg
from fillpath.router.venues.order_book import OrderBook
from fillpath.state.records import FillRecord
from fillpath.state.store import Store


@dataclass(frozen=True, slots=True)
class OrderLeg:
    """A plan leg as the exchange will see it."""

    leg: PlanLeg
    cmd: SubmitOrder
    base: AssetId
    quote: AssetId
    in_decimals: int
    out_decimals: int


def _lots_down(qty: Decimal, lot: Decimal) -> Decimal:
    return (qty / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


def _tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick


def order_leg(
    leg: PlanLeg, book: OrderBook, client_order_id: str, slippage_bps: int, *, intent_id: str | None = None
) -> OrderLeg:
    """The order that carries out ``leg`` on ``book`` (the snapshot record the plan was made on).

    Its limit is the worst level the plan walks, widened by ``slippage_bps``: each fill is at that price or
    better, so the order cannot chase a book that moved away (what does not fill expires, IOC). A buy locks
    ``qty × limit`` of quote at the venue for the moment it matches; it spends what the levels cost.
    """
    widen = Decimal(slippage_bps) / 10_000
    if leg.asset_in == book.base:  # sell base for quote
        qty = _lots_down(from_base_units(leg.amount_in, book.base_decimals), book.lot)
        worst = _worst(book.bids, qty)
        side, limit = Side.SELL, _tick(worst * (1 - widen), book.tick, ROUND_FLOOR)
        in_dec, out_dec = book.base_decimals, book.quote_decimals
    elif leg.asset_in == book.quote_asset:  # spend quote for base
        qty = _buy_quantity(book, leg.amount_in)
        worst = _worst(book.asks, qty)
        side, limit = Side.BUY, _tick(worst * (1 + widen), book.tick, ROUND_CEILING)
        in_dec, out_dec = book.quote_decimals, book.base_decimals
    else:
        raise InvalidInput("leg.asset_in", f"{leg.asset_in} is not traded on {book.id}")
    if qty <= 0 or limit <= 0:
        raise InvalidInput("leg.amount_in", f"{leg.amount_in} is below one lot on {book.id}", "trade more")
    symbol = f"{book.base.symbol}/{book.quote_asset.symbol}"
    intent = intent_id or client_order_id
    cmd = SubmitOrder(book.location, client_order_id, symbol, side, qty, limit, intent, TimeInForce.IOC)
    return OrderLeg(leg, cmd, book.base, book.quote_asset, in_dec, out_dec)


def _worst(levels: tuple[tuple[Decimal, Decimal], ...], qty: Decimal) -> Decimal:
    """The price of the last level a taker of ``qty`` reaches."""
    left, reached = qty, levels[0][0] if levels else Decimal(0)
    for level_price, size in levels:
        reached = level_price
        left -= size
        if left <= 0:
            break
    return reached


def _buy_quantity(book: OrderBook, amount_in: int) -> Decimal:
    """Whole lots the quote amount buys walking the asks (what the router's exact quote assumed)."""
    budget, bought = Fraction(amount_in, 10**book.quote_decimals), Fraction(0)
    for price, size in book.asks:
        take = min(Fraction(size), budget / Fraction(price))
        bought += take
        budget -= take * Fraction(price)
        if budget == 0:
            break
    lots = bought // Fraction(book.lot)
    return Decimal(int(lots)) * book.lot


def intent_for(o: OrderLeg, deadline_ns: int) -> IntentCreated:
    leg = o.leg
    return IntentCreated(
        o.cmd.venue, o.cmd.intent_id or o.cmd.client_order_id, "cex.order", o.cmd.client_order_id,
        leg.asset_in, leg.amount_in, leg.asset_out, leg.min_out, deadline_ns,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    client_order_id: str
    state: OrderState
    spent: int
    """Base units of the leg's input the fills used (rounded up)."""
    realized: int
    """Base units of the leg's output the fills delivered, after fees (rounded down)."""
    reason: str | None


def order_fills(
    store: Store, venue: str, client_order_id: str, trade_ids: Iterable[str] | None = None
) -> list[FillRecord]:
    """The order's fills from the store, by their trade ids when the order knows them (no scan of all fills)."""
    if trade_ids is not None:
        table = store.fills()
        found = (table.get((venue, t)) for t in trade_ids)
        fills = [f for f in found if f is not None and f.client_order_id == client_order_id]
    else:
        fills = [f for f in store.fills().values() if f.venue == venue and f.client_order_id == client_order_id]
    return sorted(fills, key=lambda f: f.seq)


def fills_ledger(side: Side, base: AssetId, quote: AssetId, fills: list[FillRecord]) -> list[BalanceAdjusted]:
    """What the fills moved, exactly as the venue counts it: base and quote by qty·price, the fee in its asset."""
    deltas: dict[AssetId, Decimal] = {}
    sign = 1 if side is Side.BUY else -1
    for f in fills:
        deltas[base] = add_exact(deltas.get(base, Decimal(0)), sign * f.qty)
        deltas[quote] = add_exact(deltas.get(quote, Decimal(0)), -sign * f.qty * f.price)
        if f.fee and f.fee_asset:
            fee_asset = AssetId(f.fee_asset, base.location)
            deltas[fee_asset] = add_exact(deltas.get(fee_asset, Decimal(0)), -f.fee)
    return [BalanceAdjusted(base.location, a, d, "execution") for a, d in deltas.items() if d]


def outcome(o: OrderLeg, state: OrderState, fills: list[FillRecord], reason: str | None) -> OrderOutcome:
    received, spent = Decimal(0), Decimal(0)
    for f in fills:
        if o.cmd.side is Side.SELL:
            spent += f.qty
            received += f.qty * f.price - (f.fee if f.fee_asset == o.quote.symbol else 0)
        else:
            spent += f.qty * f.price
            received += f.qty - (f.fee if f.fee_asset == o.base.symbol else 0)
    return OrderOutcome(
        o.cmd.client_order_id,
        state,
        int((spent * 10**o.in_decimals).to_integral_value(rounding=ROUND_CEILING)),
        int((received * 10**o.out_decimals).to_integral_value(rounding=ROUND_FLOOR)),
        reason,
    )


def book(store: Store, o: OrderLeg, order: TrackedOrder) -> OrderOutcome:
    """Book the fills and resolve the intent in one journal transaction, once the order is terminal."""
    state = order.state
    fills = order_fills(store, o.cmd.venue, o.cmd.client_order_id, order.trade_ids)
    result = outcome(o, state, fills, None)
    if not state.terminal:
        return result
    events: list[Event] = [*fills_ledger(o.cmd.side, o.base, o.quote, fills)]
    good = bool(fills)
    events.append(
        IntentResolved(
            o.cmd.venue, o.cmd.intent_id or o.cmd.client_order_id, IntentOutcome.GOOD if good else IntentOutcome.BAD,
            None if good else f"{state}: no fill",
        )
    )  # fmt: skip
    store.append_many(events)
    return result
