from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.model.validate import plausible_max
from fillpath.router.snapshot import dumps_snapshot, loads_snapshot, read_snapshot, write_snapshot
from fillpath.router.venues.base import Venue
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair

EXAMPLE = Path(__file__).parent / "data" / "snapshot_example.json"
# Venue positions in the example file.
V2, V3, CURVE, BOOK, BRIDGE, TRANSFER, AGG, WRAP = range(8)


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def test_example_covers_every_kind_and_round_trips() -> None:
    doc = example()
    snap = read_snapshot(doc)
    kinds = {v.kind for v in snap.venues}
    assert kinds == {
        "uniswap_v2",
        "uniswap_v3",
        "stableswap",
        "order_book",
        "bridge",
        "transfer",
        "aggregator",
        "wrap",
    }
    assert write_snapshot(snap) == doc
    assert loads_snapshot(dumps_snapshot(snap)) == snap
    assert snap.holdings == {
        AssetId("WETH", "ethereum"): 500 * 10**18,
        AssetId("ETH", "binance"): 25 * 10**18,
    }
    assert snap.prices is not None
    assert snap.prices[AssetId("USDC", "ethereum")] == Decimal(1)


def test_reader_fills_decimals_from_assets() -> None:
    snap = read_snapshot(example())
    book = snap.venues[BOOK]
    assert isinstance(book, OrderBook)
    assert (book.base_decimals, book.quote_decimals) == (18, 6)


def test_factory_gives_venues_and_splits_three_coin_pools() -> None:
    snap = read_snapshot(example())
    venues = venues_from_snapshot(snap)
    assert all(isinstance(v, Venue) for v in venues)
    ids = [v.id for v in venues]
    curve_id = snap.venues[CURVE].id
    assert sum(i.startswith(curve_id + ":") for i in ids) == 6  # 3 coins -> 6 directions
    assert len(venues) == len(snap.venues) - 1 + 6


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return edit


def _append_duplicate(section: str, index: int) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        doc[section].append(copy.deepcopy(doc[section][index]))

    return edit


def _swap(path: list[Any], a: int, b: int) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path:
            node = node[key]
        node[a], node[b] = node[b], node[a]

    return edit


BAD_CASES = [
    (_set(["format"], "fillpath.snapshot/2"), "format", "unknown format"),
    (_delete(["taken_at"]), "taken_at", "missing"),
    (_set(["taken_at"], "yesterday"), "taken_at", "not an ISO 8601 time"),
    (_delete(["venues", V2, "reserve1"]), "venues[0].reserve1", "missing"),
    (_set(["venues", V2, "reserve0"], 30000000000000), "venues[0].reserve0", "not an integer string"),
    (_set(["venues", V2, "reserve0"], 3.0e13), "venues[0].reserve0", "not an integer string"),
    (_set(["venues", V2, "reserve0"], "3e13"), "venues[0].reserve0", "not an integer string"),
    (_set(["venues", V2, "reserve0"], "-5"), "venues[0].reserve0", "negative"),
    (_set(["venues", V2, "gas"], "90000.0"), "venues[0].gas", "not an integer string"),
    (_set(["venues", V2, "fee_ppm"], "3000"), "venues[0].fee_ppm", "not a JSON integer"),
    (_set(["venues", V2, "fee_ppm"], True), "venues[0].fee_ppm", "not a JSON integer"),
    (_set(["venues", V2, "token1"], "WBTC@ethereum"), "venues[0].token1", "unknown asset"),
    (_set(["venues", V2, "token1"], "USDC@arbitrum"), "venues[0].token1", "not at ethereum"),
    (_set(["venues", V2, "token1"], "WETH"), "venues[0].token1", "not SYMBOL@LOCATION"),
    (_set(["venues", V2, "location"], "mars"), "venues[0].location", "unknown location"),
    (_set(["venues", V2, "kind"], "uniswap_v4"), "venues[0].kind", "unknown venue kind"),
    (_set(["venues", V2, "reserve_0"], "1"), "venues[0].reserve_0", "unknown field"),
    (_swap(["venues", V3, "ticks"], 0, 1), "venues[1].ticks[1][0]", "not sorted"),
    (_set(["venues", V3, "ticks", 0, 0], "195331"), "venues[1].ticks[0][0]", "not a multiple"),
    (_set(["venues", V3, "ticks", 0, 1], 1), "venues[1].ticks[0][1]", "not an integer string"),
    (_set(["venues", V3, "sqrt_price_x96"], "1"), "venues[1].sqrt_price_x96", "outside"),
    (_set(["venues", CURVE, "balances"], ["1", "2"]), "venues[2].balances", "expected 3"),
    (_set(["venues", BOOK, "taker_fee"], "0.1.0"), "venues[3].taker_fee", "not a decimal string"),
    (_set(["venues", BOOK, "taker_fee"], 0.001), "venues[3].taker_fee", "not a decimal string"),
    (_set(["venues", BOOK, "lot"], "1E-4"), "venues[3].lot", "not a decimal string"),
    (_swap(["venues", BOOK, "bids"], 0, 1), "venues[3].bids[1][0]", "strictly descending"),
    (_swap(["venues", BOOK, "asks"], 1, 2), "venues[3].asks[2][0]", "strictly ascending"),
    (_set(["venues", BOOK, "asks", 1, 0], "3000.20"), "venues[3].asks[1][0]", "strictly ascending"),
    (_set(["venues", BOOK, "bids", 0, 1], "12.5x"), "venues[3].bids[0][1]", "not a decimal string"),
    (_set(["venues", BRIDGE, "from"], "DAI@arbitrum"), "venues[4].from", "unknown asset"),
    (_set(["venues", AGG, "samples", 1, 0], "1"), "venues[6].samples[1][0]", "not sorted"),
    (_set(["venues", WRAP, "wrapped"], "USDC@ethereum"), "venues[7].wrapped", "decimals differ"),
    (_append_duplicate("venues", V2), "venues[8].id", "duplicate"),
    (_append_duplicate("assets", 0), "assets[9].id", "duplicate"),
    (_append_duplicate("locations", 0), "locations[3].id", "duplicate"),
    (_set(["assets", 0, "decimals"], "18"), "assets[0].decimals", "not a JSON integer"),
    (_set(["assets", 0, "symbol"], "ETH"), "assets[0].symbol", "differs"),
    (
        _set(["locations", 0, "gas_price_wei"], 20000000000),
        "locations[0].gas_price_wei",
        "not an integer string",
    ),
    (_set(["locations", 2, "kind"], "dex"), "locations[2].kind", "unknown location kind"),
    (_set(["holdings", "WETH@ethereum"], 5), "holdings.WETH@ethereum", "not an integer string"),
    (_set(["holdings", "WBTC@ethereum"], "5"), "holdings.WBTC@ethereum", "unknown asset"),
    (_set(["prices", "WETH@ethereum"], 3000), "prices.WETH@ethereum", "not a decimal string"),
    (_set(["venues"], {}), "venues", "not a list"),
]


@pytest.mark.parametrize(("edit", "field", "problem"), BAD_CASES)
def test_reader_names_the_json_path(edit: Callable[[dict[str, Any]], None], field: str, problem: str) -> None:
    doc = example()
    edit(doc)
    with pytest.raises(InvalidInput) as info:
        read_snapshot(doc)
    assert info.value.field == field
    assert problem in info.value.problem


def test_loads_refuses_non_json() -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        loads_snapshot("{")


decimal_texts = st.decimals(Decimal(0), Decimal(10**9), places=8).map(lambda d: format(d, "f"))
bid_texts = st.decimals(Decimal(0), Decimal("3000.19"), places=8).map(lambda d: format(d, "f"))  # below the ask


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, plausible_max(6)),  # USDC: at most MAX_SUPPLY_WHOLE whole units (router/validate.py)
    st.integers(0, 2**112 - 1),
    st.integers(0, 999_999),
    st.lists(st.tuples(bid_texts, decimal_texts), max_size=4),
    decimal_texts,
)
def test_writer_round_trips_generated_values(
    r0: int, r1: int, fee: int, levels: list[tuple[str, str]], lot: str
) -> None:
    doc = example()
    doc["venues"][V2].update(reserve0=str(r0), reserve1=str(r1), fee_ppm=fee)
    prices = sorted({Decimal(p) for p, _ in levels if Decimal(p) > 0}, reverse=True)
    sizes = [s for _, s in levels if Decimal(s) > 0]
    doc["venues"][BOOK]["bids"] = [[format(p, "f"), s] for p, s in zip(prices, sizes, strict=False)]
    doc["venues"][BOOK]["min_notional"] = lot
    snap = read_snapshot(doc)
    assert read_snapshot(write_snapshot(snap)) == snap
    pair = snap.venues[V2]
    assert isinstance(pair, UniswapV2Pair)
    assert (pair.reserve0, pair.reserve1) == (r0, r1)
