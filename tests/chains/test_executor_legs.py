"""The executor's STABLESWAP and CALL legs on the lab (anvil and eth-tester): a LabStableSwap over the lab's
USDC/USDT/DAI and the lab aggregator behind its allowance holder, deployed next to the lab's Uniswap pools.

One plan mixes V2, V3, an aggregator quote and a StableSwap leg in one transaction: ``simulate`` gives every
leg's output before sending, equal to each venue's own quote, and the transaction realizes exactly that. A quote
whose calldata pays less than it says is refused by the simulation, naming the leg."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from fillpath.chains.executor import ALL, ExecLeg, ExecPlan, ExecutionReverted, simulate
from fillpath.lab.contracts import aggregator as agg
from fillpath.lab.contracts import stableswap as ss
from fillpath.model.assets import AssetId
from tests.chains.test_executor import _approve, _assert_clean, _balances, _send, _v2_out, _v3_out
from tests.conftest import Chain
from tests.contracts.forge import deploy, send

STABLE_COINS = ("USDC", "USDT", "DAI")


@dataclass(frozen=True)
class LabVenues:
    stable: Any
    holder: Any
    aggregator: Any


@pytest.fixture
def venues(chain: Chain) -> LabVenues:
    """A 3-coin StableSwap pool (A = 1000, fee 0.01%, admin fee 50%) seeded with 20M of each coin, and the
    aggregator with its allowance holder (the lab chain reverts them after the test)."""
    dev = chain.dev
    coins = [chain.contract(s) for s in STABLE_COINS]
    stable = deploy(chain.w3, dev, "LabStableSwap", [c.address for c in coins], 1000, 10**6, 5 * 10**9, dev, "l", "l")
    for c in coins:
        send(chain.w3, c.functions.approve(stable.address, 2**256 - 1), dev)
    amounts = [20_000_000 * 10 ** chain.deployment.token(s).decimals for s in STABLE_COINS]
    send(chain.w3, stable.functions.add_liquidity(amounts, 0), dev)
    holder = deploy(chain.w3, dev, "LabAllowanceHolder")
    aggregator = deploy(chain.w3, dev, "LabAggregator", holder.address)
    return LabVenues(stable, holder, aggregator)


def _quote_tx(
    chain: Chain, v: LabVenues, executor: str, amount: int, min_buy: int, skim_bps: int = 0
) -> agg.Transaction:
    """The lab aggregator's quote transaction: WETH → USDC on the 0.3% pool, paid to the executor (the taker)."""
    d = chain.deployment
    pool = d.pool("uniswap_v3", "WETH", "USDC", 3000).address
    skim = agg.Skim(chain.w3.eth.accounts[5], skim_bps) if skim_bps else agg.NO_SKIM
    swap = agg.SwapCall(
        d.address("WETH"), amount, d.address("USDC"), min_buy, executor,  # type: ignore[arg-type]
        (agg.Hop.v3(pool, d.address("WETH"), d.address("USDC")),), skim,
    )  # fmt: skip
    return agg.holder_transaction(v.holder.address, v.aggregator.address, swap)


def _mixed_plan(chain: Chain, v: LabVenues, a: int, b: int, c: int, skim_bps: int = 0) -> tuple[ExecPlan, list[int]]:
    d = chain.deployment
    executor = d.address("FillpathExecutor")
    weth, usdc, dai = d.address("WETH"), d.address("USDC"), d.address("DAI")
    q = [_v2_out(chain, "WETH", "USDC", a)]
    q += [_v3_out(chain, "WETH", "USDC", 500, b), _v3_out(chain, "WETH", "USDC", 3000, c)]
    state = ss.read_state(chain.w3, v.stable.address)
    venue = state.venue("lab3", "lab1", [AssetId(s, "lab1") for s in STABLE_COINS], 130_000)
    q.append(venue.get_dy(0, 2, sum(q)))  # the router's own StableSwap math on the state read from the chain
    assert q[3] == v.stable.functions.get_dy(0, 2, sum(q[:3])).call()
    tx = _quote_tx(chain, v, executor, c, q[2] - q[2] * skim_bps // 10_000, skim_bps)
    legs = [
        ExecLeg.v2(d.pool("uniswap_v2", "WETH", "USDC").address, weth, usdc, a, q[0]),
        ExecLeg.v3(d.pool("uniswap_v3", "WETH", "USDC", 500).address, weth, usdc, 500, b, q[1]),
        ExecLeg.external(tx.to, weth, usdc, c, q[2], tx.data, tx.allowance_target),
        ExecLeg.stableswap(v.stable.address, usdc, dai, 0, 2, ALL, q[3]),
    ]
    return ExecPlan.build(legs, dai, q[3], chain.dev, chain.deadline()), q


def test_a_plan_over_every_leg_kind_realizes_its_simulation(chain: Chain, venues: LabVenues) -> None:
    executor = chain.deployment.address("FillpathExecutor")
    a, b, c = 40 * 10**18, 300 * 10**18, 25 * 10**18
    plan, q = _mixed_plan(chain, venues, a, b, c)
    assert len(plan.calls) == 1
    _approve(chain, plan, executor)
    simulated = simulate(chain.w3, executor, plan, chain.dev)
    assert simulated.amounts_out == tuple(q)  # every leg as its own venue quotes it

    before = _balances(chain, chain.dev, "WETH", "USDC", "DAI")
    receipt = _send(chain, executor, plan)
    assert receipt["status"] == 1
    after = _balances(chain, chain.dev, "WETH", "USDC", "DAI")
    assert before["WETH"] - after["WETH"] == a + b + c
    assert after["USDC"] == before["USDC"]
    assert after["DAI"] - before["DAI"] == simulated.total_out == q[3]  # realized = simulated, to the unit
    _assert_clean(chain, executor)
    weth, usdc = chain.contract("WETH"), chain.contract("USDC")
    assert weth.functions.allowance(executor, venues.holder.address).call() == 0
    assert usdc.functions.allowance(executor, venues.stable.address).call() == 0
    swapped = [e for e in (agg.decode_swapped(log) for log in receipt["logs"]) if e]
    assert [(s.taker, s.buy_amount, s.skimmed) for s in swapped] == [(executor, q[2], 0)]
    exchanged = [e for e in (ss.TOKEN_EXCHANGE.decode_log(log) for log in receipt["logs"]) if e]
    assert [(e["sold_id"], e["tokens_sold"], e["bought_id"], e["tokens_bought"]) for e in exchanged] == [
        (0, q[0] + q[1] + q[2], 2, q[3])
    ]


def test_a_quote_that_pays_less_is_refused_by_the_simulation(chain: Chain, venues: LabVenues) -> None:
    executor = chain.deployment.address("FillpathExecutor")
    plan, q = _mixed_plan(chain, venues, 10**18, 10**18, 10**18, skim_bps=30)
    _approve(chain, plan, executor)
    with pytest.raises(ExecutionReverted) as info:
        simulate(chain.w3, executor, plan, chain.dev)
    err = info.value.error
    assert err is not None
    assert (err.name, err.arg("index"), err.arg("min")) == ("LegMinOut", 2, q[2])
    assert err.arg("got") == q[2] - q[2] * 30 // 10_000


def test_a_failing_quote_names_the_leg_and_carries_the_aggregators_reason(chain: Chain, venues: LabVenues) -> None:
    d = chain.deployment
    executor = d.address("FillpathExecutor")
    q = _v3_out(chain, "WETH", "USDC", 3000, 10**18)
    tx = _quote_tx(chain, venues, executor, 10**18, q + 1)  # a stale quote: the price moved since
    leg = ExecLeg.external(tx.to, d.address("WETH"), d.address("USDC"), 10**18, 0, tx.data, tx.allowance_target)
    plan = ExecPlan.build([leg], d.address("USDC"), 0, chain.dev, chain.deadline())
    _approve(chain, plan, executor)
    with pytest.raises(ExecutionReverted) as info:
        simulate(chain.w3, executor, plan, chain.dev)
    err = info.value.error
    assert err is not None
    assert (err.name, err.arg("index")) == ("CallFailed", 0)
    inner = agg.decode_revert(err.arg("reason"))
    assert str(inner) == f"TooMuchSlippage(buyToken='{d.address('USDC')}', minBuyAmount={q + 1}, buyAmount={q})"
