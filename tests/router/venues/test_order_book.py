from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router.venues.order_book import OrderBook
from tests.router.venues import laws

ETH = AssetId("ETH", "binance")
USDT = AssetId("USDT", "binance")
D = Decimal


def book(
    bids: list[tuple[str, str]] | None = None,
    asks: list[tuple[str, str]] | None = None,
    fee: str = "0.001",
    lot: str = "0.0001",
    min_notional: str = "5",
) -> OrderBook:
    return OrderBook(
        id="binance:ETH/USDT",
        location="binance",
        base=ETH,
        quote_asset=USDT,
        taker_fee=D(fee),
        lot=D(lot),
        tick=D("0.01"),
        min_notional=D(min_notional),
        bids=tuple((D(p), D(s)) for p, s in (bids or [("3000.10", "12.5"), ("3000.00", "20")])),
        asks=tuple((D(p), D(s)) for p, s in (asks or [("3000.20", "3.1"), ("3000.50", "15")])),
        base_decimals=18,
        quote_decimals=6,
    )


def test_selling_base_walks_bids_and_pays_fee_in_quote() -> None:
    # 12.5 @ 3000.10 + 0.5 @ 3000.00 = 39001.25 USDT, less 0.1% = 38962.24875 -> 38962.248750 USDT.
    assert book().quote(ETH, 13 * 10**18) == 38_962_248_750


def test_lot_and_min_notional() -> None:
    b = book()
    # 0.00015 ETH rounds down to one lot: 0.30001 USDT of notional is below the 5 USDT minimum.
    assert b.quote(ETH, 150_000_000_000_000) == 0
    # 0.002 ETH: 6.0002 USDT, less fee 5.9941998 -> 5.994199 (rounded down).
    assert b.quote(ETH, 2 * 10**15) == 5_994_199
    # 0.00209 ETH sells exactly 0.0020 ETH: the rest of a lot is not sold.
    assert b.quote(ETH, 2_090_000_000_000_000) == 5_994_199


def test_buying_base_walks_asks_rounds_to_lots_and_pays_fee_in_base() -> None:
    # 10000 USDT: 3.1 ETH for 9300.62, then 699.38/3000.50 = 0.23308... ETH; 3.33308... -> 3.3330 lots,
    # less 0.1% fee = 3.329667 ETH.
    assert book().quote(USDT, 10_000 * 10**6) == 3_329_667 * 10**12
    # 1 USDT would buy 0.0003 ETH, but 0.90006 USDT of notional is below the minimum.
    assert book().quote(USDT, 10**6) == 0


def test_beyond_the_book() -> None:
    b = book()
    assert b.capacity(ETH) == 325 * 10**17
    assert b.quote(ETH, 10**24) == b.quote(ETH, b.capacity(ETH))
    assert b.marginal_rate(ETH, b.capacity(ETH) + 1) == 0
    # Spending more quote than the asks hold buys exactly the whole ask side.
    assert b.quote(USDT, 10**15) == (3_1000 + 15_0000) * 10**14 * 999 // 1000


def test_rates_per_level() -> None:
    b = book()
    unit = Fraction(10**6, 10**18)
    assert b.marginal_rate(ETH, 0) == Fraction("3000.10") * Fraction(999, 1000) * unit
    assert b.marginal_rate(ETH, 125 * 10**17) == Fraction("3000.10") * Fraction(999, 1000) * unit
    assert b.marginal_rate(ETH, 125 * 10**17 + 1) == Fraction("3000.00") * Fraction(999, 1000) * unit
    assert b.amount_at_rate(ETH, Fraction(3000) * Fraction(999, 1000) * unit) == 325 * 10**17
    assert b.amount_at_rate(ETH, Fraction("3000.05") * Fraction(999, 1000) * unit) == 125 * 10**17
    assert b.amount_at_rate(ETH, Fraction(4000) * unit) == 0


prices = st.decimals(D("0.01"), D("100000"), places=2)
sizes = st.decimals(D("0.0001"), D("1000"), places=4)


@st.composite
def books(draw: st.DrawFn) -> OrderBook:
    mid = draw(prices)
    bid_prices = sorted({mid - D(k) / 100 for k in draw(st.lists(st.integers(0, 10**5), min_size=1, max_size=6))})
    bid_prices = [p for p in bid_prices if p > 0][::-1] or [mid]
    ask_prices = sorted({mid + D(k) / 100 + D("0.01") for k in draw(st.lists(st.integers(0, 10**5), min_size=1))})
    return book(
        bids=[(str(p), str(draw(sizes))) for p in bid_prices],
        asks=[(str(p), str(draw(sizes))) for p in ask_prices[:6]],
        fee=str(draw(st.sampled_from(["0", "0.001", "0.00075"]))),
        lot=str(draw(st.sampled_from(["0.0001", "0.001", "1"]))),
        min_notional=str(draw(st.sampled_from(["0", "5", "100"]))),
    )


amounts = st.lists(st.integers(0, 10**24), min_size=2, max_size=6)


@settings(max_examples=200, deadline=None)
@given(books(), amounts, amounts)
def test_curve_laws(b: OrderBook, base_amounts: list[int], quote_amounts: list[int]) -> None:
    quote_amounts = [a // 10**12 for a in quote_amounts]  # quote has 6 decimals
    for asset, xs in ((ETH, base_amounts), (USDT, quote_amounts)):
        laws.check_monotone(b, asset, xs)
        laws.check_marginal_non_increasing(b, asset, xs)
        for x in xs:
            laws.check_rate_bounds_quote(b, asset, x)
            laws.check_inverse(b, asset, b.marginal_rate(asset, x))


@settings(max_examples=200, deadline=None)
@given(books(), st.integers(0, 10**24))
def test_sold_lots_are_whole_and_bounded_by_depth(b: OrderBook, amount: int) -> None:
    cap = b.capacity(ETH)
    lot_units = int(b.lot * 10**18)
    assert cap % lot_units == 0
    assert cap <= sum(s for _, s in b.bids) * 10**18
    assert b.quote(ETH, amount) == b.quote(ETH, amount - amount % lot_units)
