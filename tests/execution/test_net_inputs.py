"""A plan's net inputs: what the trader gives, per asset — the base of the arrival value and of price impact."""

from __future__ import annotations

from fillpath.model.assets import AssetId
from fillpath.router.plan import PlanLeg, net_inputs

A = AssetId.parse


def leg(venue: str, a: str, b: str, amount_in: int, amount_out: int) -> PlanLeg:
    return PlanLeg(venue, A(a), A(b), amount_in, amount_out, amount_out * 99 // 100)


def test_a_holding_fed_by_a_deposit_counts_what_was_held_and_transits_net_to_nothing() -> None:
    # 1,500 WETH on lab1 (40 wrapped and deposited) and 500 ETH held on labex, all sold for USDC
    legs = [
        leg("lab1:pool", "WETH@lab1", "USDC@lab1", 1460, 4_380_000),
        leg("lab1:wrap", "WETH@lab1", "ETH@lab1", 40, 40),
        leg("labex:deposit", "ETH@lab1", "ETH@labex", 40, 40),
        leg("labex:ETH/USDC", "ETH@labex", "USDC@labex", 540, 1_600_000),
    ]
    assert net_inputs(legs) == {A("WETH@lab1"): 1500, A("ETH@labex"): 500}


def test_one_path_has_one_input() -> None:
    legs = [leg("p", "WETH@lab1", "USDC@lab1", 10, 30_000), leg("q", "USDC@lab1", "DAI@lab1", 30_000, 29_990)]
    assert net_inputs(legs) == {A("WETH@lab1"): 10}
