"""Snapshots that cannot be real are refused by name (``router/validate.py``), and the real edge cases pass."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fillpath.model.errors import InvalidInput
from fillpath.router import Market, RouteRequest, route
from fillpath.router.snapshot import read_snapshot
from fillpath.router.validate import v3_tick_problem
from fillpath.router.venues import uniswap_v3_math as v3m

EXAMPLE = json.loads((Path(__file__).parent / "data" / "snapshot_example.json").read_text())
V2, V3, BOOK, AGG, WRAP, BRIDGE = 0, 1, 3, 6, 7, 4


def edited(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE)
    edit(doc)
    return doc


def refused(edit: Callable[[dict[str, Any]], object]) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        read_snapshot(edited(edit))
    return info.value


def test_the_example_is_real() -> None:
    read_snapshot(EXAMPLE)


def test_a_tick_that_disagrees_with_the_price_is_refused() -> None:
    """Issue #20: tick 0 with the price of tick 196256 quoted 542 trillion USDC for 10 WETH."""
    exc = refused(lambda d: d["venues"][V3].update(tick=0))
    assert exc.field == "venues[1].tick" and "196256" in exc.problem


def test_a_tick_one_below_the_boundary_after_a_downward_swap_is_real() -> None:
    """slot0 after a zeroForOne swap that ends exactly on a tick keeps that tick minus one."""
    boundary = v3m.get_sqrt_ratio_at_tick(196260)
    assert v3_tick_problem(boundary, 196260) is None
    assert v3_tick_problem(boundary, 196259) is None
    assert v3_tick_problem(boundary, 196258) is not None
    assert v3_tick_problem(boundary + 1, 196259) is not None  # off the boundary: only floor(log) is right


def test_a_crossed_book_is_refused() -> None:
    exc = refused(lambda d: d["venues"][BOOK]["bids"].insert(0, ["1000000000", "1"]))
    assert "crossed" in exc.problem and exc.field == "venues[3].bids[0][0]"


@pytest.mark.parametrize(
    ("k", "side", "other"),
    [(V2, "token1", "token0"), (V3, "token1", "token0"), (AGG, "token_out", "token_in"), (WRAP, "wrapped", "native"),
     (BOOK, "quote", "base"), (BRIDGE, "to", "from")],
)  # fmt: skip
def test_a_pair_of_one_asset_is_refused(k: int, side: str, other: str) -> None:
    exc = refused(lambda d: d["venues"][k].update({side: d["venues"][k][other]}))
    assert "same asset" in exc.problem and exc.field.endswith(side)


def test_liquidity_nets_that_leave_liquidity_negative_are_refused() -> None:
    """Once a traceback (``ArithmeticError: LS/LA``) in the middle of a route."""
    exc = refused(lambda d: d["venues"][V3]["ticks"][5].__setitem__(1, "-50000000000000000"))
    assert "liquidity" in exc.problem and exc.field == "venues[1].ticks[5][1]"


def test_a_window_of_ticks_whose_nets_do_not_sum_to_zero_is_real() -> None:
    """Collectors list ticks within a distance of the price: a wide position's other end may lie outside."""
    doc = edited(lambda d: d["venues"][V3]["ticks"].pop())  # the last tick (net -5e15) is outside the window
    snap = read_snapshot(doc)
    plan = route(Market.from_snapshot(snap), RouteRequest("USDC@ethereum", 10**12, "WETH@ethereum"))
    assert plan.expected_out > 0


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["venues"][V2].update(reserve0=str(10**31)),
        lambda d: d["holdings"].update({"WETH@ethereum": str(10**37)}),
        lambda d: d["venues"][BOOK]["asks"].append(["9000", str(10**19)]),
        lambda d: d["venues"][AGG]["samples"].append([str(10**40), "1"]),
    ],
    ids=["reserve", "holding", "book size", "aggregator sample"],
)
def test_amounts_beyond_any_supply_are_refused(edit: Callable[[dict[str, Any]], object]) -> None:
    assert "supply" in refused(edit).problem


def test_digits_are_bounded_before_parsing() -> None:
    exc = refused(lambda d: d["venues"][V2].update(reserve0="9" * 100_000))
    assert "digits" in exc.problem
