"""Bridges and exchange transfers from the configuration: validated against the places it names, and turned into
the snapshot's ``bridge`` / ``transfer`` venues in base units (no network)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fillpath.app import mover_specs
from fillpath.collect.movers import mover_venues
from fillpath.config import Config

BASE: dict[str, Any] = {
    "locations": {"a": {"chain_id": 1, "rpc": "http://a"}, "b": {"chain_id": 2, "rpc": "http://b"}},
    "exchanges": {"ex": {"ccxt_id": "binance"}},
    "tokens": [{"location": "a", "symbol": "USDC", "address": "0x" + "01" * 20, "decimals": 6}],
}
ROUTE = {"from": "USDC@a", "to": "USDC@b", "fee_ppm": 500, "fee_fixed": "0.5", "max_amount": "1000"}
BRIDGE = {"spoke_pools": {"a": "0x" + "02" * 20, "b": "0x" + "03" * 20}, "routes": [ROUTE]}


def test_bridges_and_transfers_become_snapshot_venues_in_base_units() -> None:
    cfg = Config.model_validate({
        **BASE, "bridges": {"br": BRIDGE},
        "transfers": [{"exchange": "ex", "chain": "a", "direction": "withdraw", "coin": "USDC", "fee": "1",
                       "min": "10", "latency_s": 30},
                      {"exchange": "ex", "chain": "a", "direction": "deposit", "coin": "ETH"}],
    })  # fmt: skip
    specs = mover_specs(cfg)
    assets = [{"id": "USDC@a", "decimals": 6}, {"id": "USDC@b", "decimals": 6}, {"id": "USDC@ex", "decimals": 6},
              {"id": "ETH@a", "decimals": 18}]  # fmt: skip
    venues = {v["id"]: v for v in mover_venues(specs, assets)}
    bridge = venues["br:USDC@a>USDC@b"]
    assert (bridge["kind"], bridge["fee_fixed"], bridge["fee_ppm"], bridge["max_amount"]) == (
        "bridge", "500000", 500, "1000000000")  # fmt: skip
    withdraw = venues["ex:withdraw:USDC@ex>USDC@a"]
    assert (withdraw["kind"], withdraw["fee_fixed"], withdraw["gas"], withdraw["latency_s"]) == (
        "transfer",
        "1000000",
        "0",
        30,
    )
    assert "ex:deposit:ETH@a>ETH@ex" not in venues  # ETH@ex is not among the snapshot's assets: left out
    assert mover_venues(specs, [*assets, {"id": "ETH@ex", "decimals": 18}])[-1]["gas"] == "21000"  # native: 21k


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"bridges": {"br": {**BRIDGE, "spoke_pools": {"a": "0x1", "z": "0x2"}}}}, "'z' is not a configured location"),
        ({"bridges": {"br": {**BRIDGE, "routes": [{"from": "USDC@a", "to": "USDC@c"}]}}}, "without a spoke pool"),
        ({"bridges": {"br": {**BRIDGE, "routes": [{"from": "USDC", "to": "USDC@b"}]}}}, "SYMBOL@LOCATION"),
        (
            {"transfers": [{"exchange": "nope", "chain": "a", "direction": "deposit", "coin": "ETH"}]},
            "'nope' is not a configured exchange",
        ),
        ({"transfers": [{"exchange": "ex", "chain": "a", "direction": "sideways", "coin": "ETH"}]}, "direction"),
    ],
)
def test_a_mover_naming_an_unknown_place_is_refused(patch: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        Config.model_validate({**BASE, **patch})


def test_fees_are_decimals_not_floats() -> None:
    cfg = Config.model_validate({**BASE, "bridges": {"br": BRIDGE}})
    assert cfg.bridges["br"].routes[0].fee_fixed == Decimal("0.5")
