"""A plan leg on a book → the protected order that carries it out, and the ledger moves its fills make.

The order must be the router's leg exactly: the quantity the router's exact quote assumed (so a full fill at the
snapshot's levels delivers the leg's ``amount_out`` to the unit), and a limit that no fill can be worse than —
the worst level the plan walks, widened by the slippage and rounded outwards to the tick.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.execution.exchange_leg import fills_ledger, order_leg, outcome
from fillpath.model.assets import AssetId
from fillpath.model.orders import OrderState, TimeInForce
from fillpath.model.sides import Side
from fillpath.router.plan import PlanLeg
from fillpath.router.venues.order_book import OrderBook
from fillpath.state.records import FillRecord

ETH, USDT = AssetId("ETH", "ex"), AssetId("USDT", "ex")
FEE = Decimal("0.001")

levels = st.lists(
    st.tuples(st.integers(1, 400), st.integers(1, 5_000)), min_size=1, max_size=8, unique_by=lambda t: t[0]
)


def _book(bid_steps: list[tuple[int, int]], ask_steps: list[tuple[int, int]]) -> OrderBook:
    """Bids below 3000 and asks above, ``(distance in ticks, size in lots)``."""
    tick, lot = Decimal("0.01"), Decimal("0.0001")
    bids = sorted(((Decimal(3000) - d * tick, n * lot * 100) for d, n in bid_steps), reverse=True)
    asks = sorted((Decimal(3000) + d * tick, n * lot * 100) for d, n in ask_steps)
    return OrderBook("ex:ETH/USDT", "ex", ETH, USDT, FEE, lot, tick, Decimal("5"), tuple(bids), tuple(asks), 18, 6)


def _leg(book: OrderBook, asset_in: AssetId, amount_in: int, slippage_bps: int) -> PlanLeg:
    out = book.quote(asset_in, amount_in)
    asset_out = USDT if asset_in == ETH else ETH
    return PlanLeg(book.id, asset_in, asset_out, amount_in, out, out * (10_000 - slippage_bps) // 10_000)


@settings(max_examples=200, deadline=None)
@given(bids=levels, asks=levels, frac=st.fractions(Fraction(1, 1000), Fraction(1)), slip=st.integers(0, 300))
def test_a_sell_leg_becomes_its_exact_quantity_with_a_limit_no_fill_can_beat(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]], frac: Fraction, slip: int
) -> None:
    book = _book(bids, asks)
    depth = sum(size for _, size in book.bids)
    amount = int(Fraction(depth) * frac * 10**18)
    leg = _leg(book, ETH, amount, slip)
    if leg.amount_out == 0:
        return
    o = order_leg(leg, book, "cid-1", slip).cmd
    assert o.side is Side.SELL and o.time_in_force is TimeInForce.IOC and o.client_order_id == o.intent_id
    assert o.qty % book.lot == 0 and o.qty * 10**18 <= amount < (o.qty + book.lot) * 10**18
    # a full fill at the snapshot's levels delivers exactly the plan's amount_out
    proceeds, left = Decimal(0), o.qty
    for price, size in book.bids:
        take = min(left, size)
        proceeds += take * price
        left -= take
    assert int((proceeds * (1 - FEE)).scaleb(6).to_integral_value(rounding="ROUND_FLOOR")) == leg.amount_out
    worst = next(p for p, _ in _walk(book.bids, o.qty))
    assert o.limit_price is not None and o.limit_price <= worst  # every level the plan walks is marketable
    assert o.limit_price >= worst * (1 - Decimal(slip) / 10_000) - book.tick  # and nothing much worse fills


@settings(max_examples=200, deadline=None)
@given(bids=levels, asks=levels, frac=st.fractions(Fraction(1, 1000), Fraction(1)), slip=st.integers(0, 300))
def test_a_buy_leg_buys_the_lots_the_router_assumed(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]], frac: Fraction, slip: int
) -> None:
    book = _book(bids, asks)
    cost = sum(p * s for p, s in book.asks)
    amount = int(Fraction(cost) * frac * 10**6)
    leg = _leg(book, USDT, amount, slip)
    if leg.amount_out == 0:
        return
    o = order_leg(leg, book, "cid-2", slip).cmd
    assert o.side is Side.BUY and o.qty % book.lot == 0
    assert int((o.qty * (1 - FEE)).scaleb(18)) == leg.amount_out  # the router's exact quote, to the unit
    worst = next(p for p, _ in _walk(book.asks, o.qty))
    assert o.limit_price is not None and worst <= o.limit_price <= worst * (1 + Decimal(slip) / 10_000) + book.tick


def _walk(levels: tuple[tuple[Decimal, Decimal], ...], qty: Decimal) -> list[tuple[Decimal, Decimal]]:
    """The levels a taker of ``qty`` reaches, the last one first."""
    reached, left = [], qty
    for price, size in levels:
        reached.append((price, size))
        left -= size
        if left <= 0:
            break
    return list(reversed(reached))


def test_fills_move_the_ledger_exactly_as_the_venue_counts_them() -> None:
    book = _book([(1, 50)], [(1, 50)])
    leg = _leg(book, ETH, 2 * 10**18, 50)
    o = order_leg(leg, book, "cid-3", 50)
    fills = [
        FillRecord("ex", "t1", "cid-3", Decimal("1.5"), Decimal("2999.99"), Decimal("4.4999850"), "USDT", False, 1),
        FillRecord("ex", "t2", "cid-3", Decimal("0.5"), Decimal("2999.98"), Decimal("1.49999"), "USDT", True, 2),
    ]
    moved = {e.asset: e.delta for e in fills_ledger(Side.SELL, ETH, USDT, fills)}
    assert moved == {ETH: Decimal("-2.0"), USDT: Decimal("5999.975") - Decimal("5.9999750")}
    got = outcome(o, OrderState.FILLED, fills, None)
    assert got.spent == 2 * 10**18 and got.realized == 5_993_975_025  # 5993.975025 USDT in 6-decimal units
