"""The engine and book without HTTP: determinism of the walk, exact Decimal accounting, diff consistency."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from simkit import KEY, sim_config

from fillpath.lab.exchange.book import DepthDiff, SyntheticBook
from fillpath.lab.exchange.config import DEFAULT_BALANCES, DEFAULT_MARKETS, AccountSpec
from fillpath.lab.exchange.engine import Engine
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.orders import fmt
from fillpath.lab.exchange.params import NewOrder, parse_new_order

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


OTHER = "other-key"


def _engine() -> Engine:
    accounts = (
        AccountSpec(KEY, "s1", DEFAULT_BALANCES),
        AccountSpec(OTHER, "s2", {"ETH": Decimal(50), "USDT": Decimal(200_000)}),
    )
    return Engine(sim_config(accounts=accounts), clock=lambda: 1_700_000_000_000)


def _order(**kw: str) -> NewOrder:
    return parse_new_order({"symbol": "ETHUSDT", "newOrderRespType": "FULL", **kw})


def _totals(engine: Engine, key: str) -> dict[str, Decimal]:
    account = engine.accounts[key]
    return {a: account.free.get(a, Decimal(0)) + account.locked.get(a, Decimal(0)) for a in ("ETH", "USDT")}


Step = tuple[bool, str, str, int, int, str]

_steps = st.lists(
    st.tuples(
        st.booleans(),  # which account
        st.sampled_from(["BUY", "SELL"]),
        st.sampled_from(["MARKET", "LIMIT", "LIMIT"]),
        st.integers(min_value=1, max_value=50_000),  # quantity in 0.0001 ETH
        st.integers(min_value=-300, max_value=300),  # limit price offset from 3000 in 0.01
        st.sampled_from(["", "", "walk", "cancel"]),  # then: nothing, a walk step, cancel the oldest open
    ),
    min_size=1,
    max_size=14,
)


def _run(engine: Engine, steps: list[Step]) -> None:
    for first, side, kind, qty_units, offset, then in steps:
        key = KEY if first else OTHER
        qty = Decimal(qty_units) * ETH.step
        params = {"side": side, "type": kind, "quantity": fmt(qty)}
        if kind == "LIMIT":
            params |= {"price": fmt(Decimal(3000) + Decimal(offset) * ETH.tick), "timeInForce": "GTC"}
        with contextlib.suppress(BinanceError):  # too small, or more than the account holds
            engine.place(key, _order(**params))
        if then == "walk":
            engine.walk(1)
        elif then == "cancel" and (open_orders := engine.open_orders(key, "ETHUSDT")):
            engine.cancel(key, "ETHUSDT", open_orders[0].order_id, None)


@settings(max_examples=40, deadline=None)
@given(steps=_steps)
def test_accounting_is_exact(steps: list[Step]) -> None:
    """Whatever trades, cancels and walks happen, with two accounts trading with the market and each other,
    each account's assets move by exactly its trades' amounts and fees, and locks match open orders."""
    engine = _engine()
    start = {key: _totals(engine, key) for key in (KEY, OTHER)}
    _run(engine, steps)
    for key in (KEY, OTHER):
        trades = engine.my_trades(key, "ETHUSDT")
        eth = sum((t.qty if t.side == "BUY" else -t.qty) for t in trades) - sum(
            t.commission for t in trades if t.commission_asset == "ETH"
        )
        usdt = sum((-t.quote_qty if t.side == "BUY" else t.quote_qty) for t in trades) - sum(
            t.commission for t in trades if t.commission_asset == "USDT"
        )
        end = _totals(engine, key)
        assert end["ETH"] - start[key]["ETH"] == eth
        assert end["USDT"] - start[key]["USDT"] == usdt
        account = engine.accounts[key]
        assert all(v >= 0 for v in account.free.values())
        open_orders = engine.open_orders(key, "ETHUSDT")
        assert account.locked.get("USDT", Decimal(0)) == sum(
            (o.locked for o in open_orders if o.side == "BUY"), Decimal(0)
        )
        assert account.locked.get("ETH", Decimal(0)) == sum(
            (o.locked for o in open_orders if o.side == "SELL"), Decimal(0)
        )


@settings(max_examples=30, deadline=None)
@given(steps=_steps)
def test_depth_diffs_replay_with_user_orders(steps: list[Step]) -> None:
    """A stream client that applies every diff to the first snapshot ends with the venue's book, users'
    resting orders included, and the book is never crossed."""
    engine = _engine()
    diffs: list[DepthDiff] = []
    engine.on_depth = lambda diff, _t: diffs.append(diff)
    book = engine.books["ETHUSDT"]
    bids, asks = (dict(side) for side in book.depth(100_000))
    last = book.update_id
    _run(engine, steps)
    for diff in (d for d in diffs if d.symbol == "ETHUSDT"):
        assert diff.first_update_id == last + 1
        last = diff.last_update_id
        for side, changes in ((bids, diff.bids), (asks, diff.asks)):
            for price, qty in changes:
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
    now_bids, now_asks = book.depth(100_000)
    assert bids == dict(now_bids)
    assert asks == dict(now_asks)
    assert last == book.update_id
    if now_bids and now_asks:
        assert now_bids[0][0] < now_asks[0][0]
    resting = sum((o.remaining for o in engine.open_orders(KEY, "ETHUSDT") if o.side == "SELL"), Decimal(0))
    resting += sum((o.remaining for o in engine.open_orders(OTHER, "ETHUSDT") if o.side == "SELL"), Decimal(0))
    assert sum(book.user_asks.values(), Decimal(0)) == resting


def test_takers_meet_other_users_first_and_never_themselves() -> None:
    engine = _engine()
    engine.set_book("ETHUSDT", [(Decimal(2990), Decimal(5))], [(Decimal(3010), Decimal(5))])
    resting, _ = engine.place(OTHER, _order(side="SELL", type="LIMIT", timeInForce="GTC", quantity="1", price="3005"))
    mine, _ = engine.place(KEY, _order(side="SELL", type="LIMIT", timeInForce="GTC", quantity="1", price="3006"))
    assert engine.books["ETHUSDT"].depth(2)[1] == [(Decimal(3005), Decimal(1)), (Decimal(3006), Decimal(1))]
    taker, fills = engine.place(KEY, _order(side="BUY", type="MARKET", quantity="2"))
    assert [(t.price, t.qty) for t in fills] == [(Decimal(3005), Decimal(1)), (Decimal(3010), Decimal(1))]
    assert resting.status == "FILLED"
    assert engine.my_trades(OTHER, "ETHUSDT")[0].is_maker
    assert mine.status == "EXPIRED_IN_MATCH"  # self-trade prevention: the maker side expires
    assert engine.accounts[KEY].locked.get("ETH") == 0
    assert taker.status == "FILLED"


def test_formatting_never_rounds() -> None:
    assert fmt(Decimal("3000")) == "3000.00000000"
    assert fmt(Decimal("0.000003331")) == "0.000003331"
