"""The engine and book without HTTP: determinism of the walk, exact Decimal accounting, diff consistency."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from simkit import KEY, sim_config

from fillpath.cex.sim.book import SyntheticBook
from fillpath.cex.sim.config import DEFAULT_MARKETS
from fillpath.cex.sim.engine import Engine
from fillpath.cex.sim.errors import BinanceError
from fillpath.cex.sim.orders import fmt
from fillpath.cex.sim.params import NewOrder, parse_new_order

ETH = DEFAULT_MARKETS[0]


def _path(seed: int, steps: int) -> list[Decimal]:
    book = SyntheticBook(ETH, seed)
    out = []
    for _ in range(steps):
        book.step()
        out.append(book.mid)
    return out


def test_walk_is_deterministic_under_the_seed() -> None:
    assert _path(11, 50) == _path(11, 50)
    assert _path(11, 50) != _path(12, 50)
    a, b = SyntheticBook(ETH, 3), SyntheticBook(ETH, 3)
    for _ in range(5):
        a.step()
        b.step()
    assert a.depth(200) == b.depth(200)


def test_walk_moves_on_the_tick_and_stays_decimal() -> None:
    book = SyntheticBook(ETH, 1)
    for _ in range(20):
        move = book.step()
        assert abs(move) <= ETH.max_step_ticks
        bids, asks = book.depth(1000)
        assert all(isinstance(p, Decimal) and p % ETH.tick == 0 for p, _ in bids + asks)
        assert all(q % ETH.step == 0 and q > 0 for _, q in bids + asks)
        assert bids[0][0] < asks[0][0]


def test_diffs_replay_onto_the_snapshot() -> None:
    """Applying every diff to an earlier snapshot gives the later snapshot: what a stream client does."""
    book = SyntheticBook(ETH, 5)
    bids, asks = (dict(side) for side in book.depth(10_000))
    last = book.update_id
    for i in range(12):
        if i % 3 == 2:  # a taker sweeps through the first levels (and empties some)
            for price, qty in book.plan("BUY", max_qty=Decimal(7)):
                book.consume("BUY", price, qty)
            price, qty = book.plan("SELL", max_qty=Decimal("0.5"))[0]
            book.consume("SELL", price, qty)
        else:
            book.step()
        diff = book.commit()
        assert diff is not None
        assert diff.first_update_id == last + 1
        last = diff.last_update_id
        for side, changes in ((bids, diff.bids), (asks, diff.asks)):
            for price, qty in changes:
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
    now_bids, now_asks = book.depth(10_000)
    assert bids == dict(now_bids)
    assert asks == dict(now_asks)


def _engine() -> Engine:
    return Engine(sim_config(), clock=lambda: 1_700_000_000_000)


def _order(**kw: str) -> NewOrder:
    return parse_new_order({"symbol": "ETHUSDT", "newOrderRespType": "FULL", **kw})


def _totals(engine: Engine) -> dict[str, Decimal]:
    account = engine.accounts[KEY]
    return {a: account.free.get(a, Decimal(0)) + account.locked.get(a, Decimal(0)) for a in ("ETH", "USDT")}


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["BUY", "SELL"]),
            st.sampled_from(["MARKET", "LIMIT"]),
            st.integers(min_value=1, max_value=50_000),  # quantity in 0.0001 ETH
            st.integers(min_value=-300, max_value=300),  # limit price offset from 3000 in 0.01
            st.booleans(),  # walk after
        ),
        min_size=1,
        max_size=12,
    )
)
def test_accounting_is_exact(steps: list[tuple[str, str, int, int, bool]]) -> None:
    """Whatever trades and walks happen, each asset's total moves by exactly the trades' amounts and fees."""
    engine = _engine()
    start = _totals(engine)
    for side, kind, qty_units, offset, walk in steps:
        qty = Decimal(qty_units) * ETH.step
        params = {"side": side, "type": kind, "quantity": fmt(qty)}
        if kind == "LIMIT":
            params |= {"price": fmt(Decimal(3000) + Decimal(offset) * ETH.tick), "timeInForce": "GTC"}
        with contextlib.suppress(BinanceError):  # too small, or more than the account holds
            engine.place(KEY, _order(**params))
        if walk:
            engine.walk(1)
    trades = engine.my_trades(KEY, "ETHUSDT")
    eth = sum((t.qty if t.side == "BUY" else -t.qty) for t in trades) - sum(
        t.commission for t in trades if t.commission_asset == "ETH"
    )
    usdt = sum((-t.quote_qty if t.side == "BUY" else t.quote_qty) for t in trades) - sum(
        t.commission for t in trades if t.commission_asset == "USDT"
    )
    end = _totals(engine)
    assert end["ETH"] - start["ETH"] == eth
    assert end["USDT"] - start["USDT"] == usdt
    account = engine.accounts[KEY]
    assert all(v >= 0 for v in account.free.values())
    assert all(v >= 0 for v in account.locked.values())
    reserved = sum((o.locked for o in engine.open_orders(KEY, "ETHUSDT") if o.side == "BUY"), Decimal(0))
    assert account.locked.get("USDT", Decimal(0)) == reserved


def test_formatting_never_rounds() -> None:
    assert fmt(Decimal("3000")) == "3000.00000000"
    assert fmt(Decimal("0.000003331")) == "0.000003331"
