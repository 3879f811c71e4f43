"""A plan as steps: which requests go out at the decision, and which wait for another's output."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fillpath.execution.steps import RunnerKey, leg_key, plan_steps, within_delivered
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.plan import Plan, PlanLeg, PlanStats

A = AssetId.parse


def leg(venue: str, a: str, b: str, amount_in: int = 100, amount_out: int = 100) -> PlanLeg:
    return PlanLeg(venue, A(a), A(b), amount_in, amount_out, amount_out * 99 // 100)


def plan(*legs: PlanLeg) -> Plan:
    return Plan(sell=str(legs[0].asset_in), buy=str(legs[-1].asset_out), amount_in=legs[0].amount_in, expected_out=0,
                min_out=0, gas_cost_out=0, net_out=0, legs=tuple(legs), paths=(), stats=PlanStats(0, 0.0))  # fmt: skip


def runner(leg: PlanLeg) -> RunnerKey | None:
    kind = leg.venue.split(":")[1]
    if kind == "nowhere":
        return None
    batched = kind == "pool"
    return RunnerKey("evm.executor" if batched else "cex.order", leg.asset_in.location, batched)


def test_one_chain_many_hops_is_one_step() -> None:
    steps = plan_steps(plan(leg("lab1:pool:a", "WETH@lab1", "USDC@lab1"), leg("lab1:pool:b", "USDC@lab1", "DAI@lab1")),
                       runner)  # fmt: skip
    assert [(s.id, len(s.legs), s.depends) for s in steps] == [("lab1", 2, frozenset())]


def test_exchange_legs_are_one_order_each_and_a_hop_waits_for_its_input() -> None:
    steps = plan_steps(plan(leg("labex:book:ETH/USDT", "ETH@labex", "USDT@labex"),
                            leg("labex:book:ETH/BTC", "ETH@labex", "BTC@labex"),
                            leg("labex:book:BTC/USDT", "BTC@labex", "USDT@labex")), runner)  # fmt: skip
    by_id = {s.id: s for s in steps}
    assert by_id["labex-0"].depends == by_id["labex-1"].depends == frozenset()  # both spend a holding: roots
    assert by_id["labex-2"].depends == {"labex-1"} and by_id["labex-2"].level == 1


def test_a_chain_leg_after_an_exchange_delivery_is_a_later_step_at_the_same_location() -> None:
    steps = plan_steps(plan(leg("lab1:pool:a", "WETH@lab1", "USDC@lab1"),
                            leg("lab1:bridge:x", "USDC@lab1", "USDC@labex"),
                            leg("labex:book:USDC/USDT", "USDC@labex", "USDT@labex"),
                            leg("labex:book:USDT/WETH", "USDT@labex", "WETH@lab1"),
                            leg("lab1:pool:b", "WETH@lab1", "DAI@lab1")), runner)  # fmt: skip
    by_id = {s.id: s for s in steps}
    # the first pool leg and the later one share an asset (WETH@lab1) but the later one spends what labex delivers
    assert "lab1#" in " ".join(by_id) and by_id["lab1"].depends == frozenset()
    later = next(s for sid, s in by_id.items() if sid.startswith("lab1#"))
    assert later.level > max(by_id[d].level for d in later.depends) - 1
    assert all(by_id[d].level < later.level for d in later.depends)


def test_a_leg_no_runner_takes_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not executable here"):
        plan_steps(plan(leg("lab1:nowhere:x", "WETH@lab1", "USDC@lab1")), runner)


KINDS = st.sampled_from(["pool", "book"])
LOCS = st.sampled_from(["lab1", "lab2", "labex"])


@st.composite
def chains_of_legs(draw: st.DrawFn) -> Plan:
    """A random executable plan: each leg spends a holding or an earlier leg's output."""
    n = draw(st.integers(1, 8))
    made: list[AssetId] = []
    legs: list[PlanLeg] = []
    for i in range(n):
        src = draw(st.sampled_from(made)) if made and draw(st.booleans()) else A(f"H{i}@{draw(LOCS)}")
        dst = A(f"T{i}@{draw(LOCS)}")
        legs.append(leg(f"{src.location}:{draw(KINDS)}:{i}", str(src), str(dst)))
        made.append(dst)
    return plan(*legs)


@given(chains_of_legs())
def test_steps_cover_every_leg_once_and_wait_only_on_earlier_producers(p: Plan) -> None:
    steps = plan_steps(p, runner)
    by_id = {s.id: s for s in steps}
    placed = [leg_key(x) for s in steps for x in s.legs]
    assert sorted(placed, key=str) == sorted((leg_key(x) for x in p.legs), key=str)
    for s in steps:
        assert all(by_id[d].level < s.level for d in s.depends)  # acyclic, in execution order
        produced_elsewhere = {x.asset_out for d in s.depends for x in by_id[d].legs}
        own = {x.asset_out for x in s.legs}
        for x in s.legs:  # an input is a holding, made inside the step, or made by a step it waits for
            made_by_plan = any(y.asset_out == x.asset_in for y in p.legs)
            assert not made_by_plan or x.asset_in in own | produced_elsewhere
    assert [s.level for s in steps] == sorted(s.level for s in steps)


@given(st.integers(1, 10**30), st.integers(1, 10**30), st.integers(0, 10**30))
def test_a_waiting_leg_spends_its_share_of_what_arrived_never_more(amount_in: int, planned: int, got: int) -> None:
    x = PlanLeg("labex:book:BTC/USDT", A("BTC@labex"), A("USDT@labex"), amount_in, 3 * amount_in, 2 * amount_in)
    (y,) = within_delivered([x], {x.asset_in: planned}, {x.asset_in: got})
    assert y.amount_in <= x.amount_in and y.min_out <= x.min_out
    if got >= planned:
        assert y == x
    else:
        assert y.amount_in == x.amount_in * got // planned
        assert y.min_out == x.min_out * y.amount_in // x.amount_in


def test_a_waiting_step_spends_within_itself_what_its_first_leg_makes() -> None:
    """lab2 after a bridge: USDT (bridged) → USDC → WETH in one executor call. The second leg's input is made inside
    the step: it is not awaited from elsewhere, and it scales with what the bridge delivered."""
    bridged = leg("labbridge:bridge:USDT", "USDT@lab1", "USDT@lab2", 1000, 990)
    swap1, swap2 = (
        leg("lab2:pool:a", "USDT@lab2", "USDC@lab2", 990, 989),
        leg("lab2:pool:b", "USDC@lab2", "WETH@lab2", 989, 3),
    )
    steps = plan_steps(plan(bridged, swap1, swap2), runner)
    waiting = next(s for s in steps if s.depends)
    assert [x.venue for x in waiting.legs] == ["lab2:pool:a", "lab2:pool:b"]
    planned = {x.asset_out: x.amount_out for x in (bridged, swap1, swap2)}
    assert within_delivered(waiting.legs, planned, {A("USDT@lab2"): 990}) == [swap1, swap2]
    half = within_delivered(waiting.legs, planned, {A("USDT@lab2"): 495})
    assert [x.amount_in for x in half] == [495, 494]  # both legs scaled by what arrived, rounded down
    assert all(y.min_out <= x.min_out * y.amount_in // x.amount_in + 1 for x, y in zip(waiting.legs, half, strict=True))


def test_chain_legs_ending_in_two_assets_are_two_calls_and_the_deposit_waits_for_its_own() -> None:
    """The router sells WETH into USDC on the chain and wraps the rest to ETH for a deposit: one executor call
    delivers one asset, so the chain's legs become two steps, and the deposit waits only for the ETH."""
    steps = plan_steps(plan(leg("lab1:pool:a", "WETH@lab1", "USDC@lab1"),
                            leg("lab1:pool:w", "WETH@lab1", "ETH@lab1"),
                            leg("lab1:pool:b", "WETH@lab1", "DAI@lab1"),
                            leg("lab1:pool:c", "DAI@lab1", "USDC@lab1"),
                            leg("labex:deposit:ETH", "ETH@lab1", "ETH@labex"),
                            leg("labex:book:ETH/USDC", "ETH@labex", "USDC@labex")), runner)  # fmt: skip
    by_id = {s.id: s for s in steps}
    calls = {sid: s for sid, s in by_id.items() if s.key.batched}
    assert {sid: sorted(leg.venue for leg in s.legs) for sid, s in calls.items()} == {
        "lab1": ["lab1:pool:a", "lab1:pool:b", "lab1:pool:c"],
        "lab1/ETH": ["lab1:pool:w"],
    }
    assert all(s.depends == frozenset() and s.level == 0 for s in calls.values())
    deposit = next(s for s in steps if s.legs[0].venue == "labex:deposit:ETH")
    assert deposit.depends == {"lab1/ETH"}
    book = next(s for s in steps if s.legs[0].venue == "labex:book:ETH/USDC")
    assert book.depends == {deposit.id}


def test_a_chain_leg_feeding_two_outputs_stays_one_step() -> None:
    steps = plan_steps(plan(leg("lab1:pool:a", "WETH@lab1", "DAI@lab1"),
                            leg("lab1:pool:b", "DAI@lab1", "USDC@lab1"),
                            leg("lab1:pool:c", "DAI@lab1", "USDT@lab1")), runner)  # fmt: skip
    assert [(s.id, len(s.legs)) for s in steps] == [("lab1", 3)]
