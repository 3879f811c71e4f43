"""Every venue kind the snapshot knows is complete across the layers (STYLE item 7): it is written as it is read, it
is read from chain state or declared off-chain, a runner executes it or it is declared route-only, and a test holds
the router's math equal to the venue's own behaviour.

A new kind in ``router/snapshot_venues.READERS`` fails here until each seam says what it does with it.
"""

from __future__ import annotations

import ast
import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from fillpath.chains.readers import ON_CHAIN_KINDS, read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.collect.aggregators import aggregator_venue_id
from fillpath.collect.snapshot import OFF_CHAIN_KINDS, assemble
from fillpath.execution.aggregator_leg import AggregatorRoute
from fillpath.execution.runners import EXECUTED_KINDS, ROUTE_ONLY, ChainRunner, ExchangeRunner
from fillpath.model.assets import AssetId
from fillpath.router.snapshot_venues import READERS, Context, VenueRecord, read_venue, write_venue
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.bridge import Bridge, Transfer
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.stableswap import StableSwapPool
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from fillpath.router.venues.wrap import Wrap
from tests.conftest import Chain

ROOT = Path(__file__).resolve().parents[1]
C, X, Y = "chain", "cex", "other"
ETH, WETH, USDC, USDT = AssetId("ETH", C), AssetId("WETH", C), AssetId("USDC", C), AssetId("USDT", C)
USDC_X, USDC_Y = AssetId("USDC", X), AssetId("USDC", Y)
A1, A2 = "0x" + "11" * 20, "0x" + "22" * 20

EXAMPLES: dict[str, VenueRecord] = {
    "uniswap_v2": UniswapV2Pair(f"{C}:uniswap_v2:{A1}", C, A1, WETH, USDC, 10**20, 3 * 10**11, 3000, 90_000),
    "uniswap_v3": UniswapV3Pool(f"{C}:uniswap_v3:{A2}", C, A2, WETH, USDC, 500, 10, 2**96, 10**18, 0,
                                ((-10, 10**18), (10, -(10**18))), 110_000, 30_000),
    "stableswap": StableSwapPool(f"{C}:stableswap:{A1}", C, A1, (USDC, USDT), (10**12, 10**12), 200, 10**6,
                                 130_000, (6, 6)),
    "order_book": OrderBook(f"{X}:book:USDC/USDT", X, USDC_X, AssetId("USDT", X), Decimal("0.001"),
                            Decimal("0.01"), Decimal("0.0001"), Decimal("1"), ((Decimal("0.9999"), Decimal("10")),),
                            ((Decimal("1.0001"), Decimal("10")),), 6, 6),
    "bridge": Bridge("bridge:USDC", USDC, USDC_Y, 1, 100, 60, 10**12, 100_000, 6, 6),
    "transfer": Transfer("deposit:USDC", USDC, USDC_X, 0, 0, 600, 10**12, 65_000, 6, 6),
    "aggregator": Aggregator(aggregator_venue_id(C, "agg", "WETH", "USDC"), C, WETH, USDC,
                             ((10**18, 3000 * 10**6), (10**19, 29_000 * 10**6)), 200_000),
    "wrap": Wrap(f"{C}:wrap:WETH", C, ETH, WETH, 30_000),
}  # fmt: skip

PARITY: dict[str, str] = {
    "uniswap_v2": "tests/router/venues/test_uniswap_v2_vs_contracts.py::test_quotes_and_swaps_equal_router02",
    "uniswap_v3": "tests/router/venues/test_uniswap_v3_vs_contracts.py::test_quotes_equal_quoter_v2",
    "stableswap": "tests/contracts/test_stableswap_parity.py::test_get_dy_and_exchange_equal_the_router_math",
    "wrap": "tests/chains/test_executor.py::test_eth_in_is_wrapped_then_sold",
    "order_book": "tests/cex/test_sim_rest.py::test_market_buy_fills_against_the_book_with_our_client_id",
    "aggregator": "tests/lab/test_aggregator_service.py::"
    "test_a_quote_is_0x_shaped_and_its_transaction_pays_exactly_the_quote",
}
"""Kind → the test that holds the router's math (or the sampled quote) equal to what the venue does."""
PARITY_PENDING = {"bridge", "transfer"}
"""Route-only kinds whose venue has no executable counterpart here yet (issue #16 brings runners and lab relayers)."""


def _context() -> Context:
    decimals = {a: 18 if a.symbol in ("ETH", "WETH") else 6 for v in EXAMPLES.values() for p in v.pairs() for a in p}
    return Context(decimals, {C: "evm", X: "cex", Y: "evm"})


def test_every_kind_is_written_as_it_is_read() -> None:
    assert set(EXAMPLES) == set(READERS), "give the new kind an example here"
    ctx = _context()
    for kind, venue in EXAMPLES.items():
        written = write_venue(venue)
        assert written["kind"] == kind
        assert read_venue(written, kind, ctx) == venue, kind


def test_every_kind_is_read_on_chain_or_declared_off_chain() -> None:
    on, off = set(ON_CHAIN_KINDS), set(OFF_CHAIN_KINDS)
    assert not on & off, "a kind comes from one place"
    assert on | off == set(READERS), "declare where the new kind's state comes from"


def test_the_chain_readers_produce_every_on_chain_kind(lab1: Chain) -> None:
    async def go() -> object:
        async with RpcClient("lab1", [lab1.w3.provider.endpoint_uri]) as rpc:  # type: ignore[attr-defined]
            return await read_chain(rpc, lab1.deployment.chain_source())

    read = asyncio.run(go())
    snap = assemble([read], taken_at=datetime.now(UTC))  # type: ignore[list-item]
    assert {v["kind"] for v in snap["venues"]} == set(ON_CHAIN_KINDS)


def test_every_kind_has_a_runner_or_is_declared_route_only() -> None:
    assert not set(EXECUTED_KINDS) & set(ROUTE_ONLY)
    assert set(EXECUTED_KINDS) | set(ROUTE_ONLY) == set(READERS), "a runner for the new kind, or say route-only"
    route = AggregatorRoute("agg", None, frozenset(), frozenset())  # type: ignore[arg-type]
    chain = ChainRunner(C, None, A1, A2, None, None, aggregators={"agg": route})  # type: ignore[arg-type]
    runners = {"ChainRunner": chain, "ExchangeRunner": ExchangeRunner(X, None, None)}  # type: ignore[arg-type]
    for kind, venue in EXAMPLES.items():
        takers = [name for name, r in runners.items() if r.accepts(venue)]
        if kind in ROUTE_ONLY:
            assert takers == [], kind
        else:
            assert takers == [EXECUTED_KINDS[kind]], kind
    assert not ChainRunner(C, None, A1, A2, None, None).accepts(EXAMPLES["aggregator"])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", sorted(READERS))
def test_every_kind_has_a_parity_test(kind: str) -> None:
    if kind in PARITY_PENDING:
        assert kind in ROUTE_ONLY, f"{kind} executes: it needs a parity test"
        return
    path, name = PARITY[kind].split("::")
    tree = ast.parse((ROOT / path).read_text())
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert name in names, f"{PARITY[kind]} is gone"
