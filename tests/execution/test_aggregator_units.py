"""The pieces of an aggregator or StableSwap leg, without a chain: quote parsing and vetting, the shortfall check,
the executor plan, blame after a refusal, reading each leg's output from a receipt, sampling into a venue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from fillpath.chains import executor as ex
from fillpath.chains.aggregator import AggregatorError, Price, Quote, parse_price, parse_quote
from fillpath.chains.transactions import SimulationReverted
from fillpath.collect.aggregators import (
    AggregatorSource,
    SampledPair,
    TokenSide,
    aggregator_name,
    aggregator_venue_id,
    read_aggregator,
)
from fillpath.execution.aggregator_leg import AggregatorRoute, VettedQuote, check_simulated, explain, vet
from fillpath.execution.chain_plan import calls_first, chain_exec_plan
from fillpath.execution.engine import shared_pool_legs
from fillpath.execution.realized import APPROVAL, TOKEN_EXCHANGE, TRANSFER, V3_SWAP, leg_outputs
from fillpath.execution.result import LegStatus
from fillpath.execution.runners import BYSTANDER, refused
from fillpath.model.assets import AssetId
from fillpath.model.errors import FillpathError, InvalidInput, Rejected, Retryable
from fillpath.router.plan import Plan, PlanLeg, PlanStats
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.stableswap import StableSwapPool
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool

L = "lab1"
WETH, USDC, USDT, DAI = (AssetId(s, L) for s in ("WETH", "USDC", "USDT", "DAI"))
ADDR = {a: "0x" + f"{i + 1:040x}" for i, a in enumerate((WETH, USDC, USDT, DAI))}
HOLDER, EXECUTOR, POOL, V3 = ("0x" + f"{n:040x}" for n in (0xAA, 0xEE, 0x55, 0x33))
AGG_ID = aggregator_venue_id(L, "labagg", "WETH", "USDC")
AGG = Aggregator(AGG_ID, L, WETH, USDC, ((10**18, 3000 * 10**6), (5 * 10**18, 14_900 * 10**6)), 200_000)
SS = StableSwapPool(f"{L}:stableswap:{POOL}", L, POOL, (USDC, USDT, DAI), (10**13, 10**13, 10**25), 2000, 10**6,
                    130_000, (6, 6, 18))  # fmt: skip
ROUTE = AggregatorRoute("labagg", None, frozenset({HOLDER}), frozenset({HOLDER}), 0)  # type: ignore[arg-type]


def _quote_body(**over: Any) -> dict[str, Any]:
    body = {
        "liquidityAvailable": True, "sellToken": ADDR[WETH], "buyToken": ADDR[USDC], "sellAmount": "1000",
        "buyAmount": "3000", "minBuyAmount": "2990", "blockNumber": "7", "allowanceTarget": HOLDER,
        "issues": {"allowance": {"actual": "0", "spender": HOLDER}, "balance": None},
        "transaction": {"to": HOLDER, "data": "0x2213bc0b00", "gas": "200000", "gasPrice": "1", "value": "0"},
        "route": {"fills": [{"source": "LabSwap"}]}, "zid": "0x01",
    }  # fmt: skip
    return body | over


def _quote(buy: int = 3000, **over: Any) -> Quote:
    q = parse_quote(_quote_body(buyAmount=str(buy), **over), ADDR[WETH], ADDR[USDC], 1000, "q")
    assert q is not None
    return q


# --- the API's answer, parsed strictly -----------------------------------------------------------------------------


def test_a_quote_is_parsed_exactly_and_checked_against_what_was_asked() -> None:
    q = _quote()
    assert (q.sell_amount, q.buy_amount, q.min_buy_amount, q.to, q.allowance_target, q.value) == (
        1000, 3000, 2990, HOLDER, HOLDER, 0
    )  # fmt: skip
    assert q.data == bytes.fromhex("2213bc0b00") and q.sources == ("LabSwap",) and q.block_number == 7
    assert parse_quote({"liquidityAvailable": False}, ADDR[WETH], ADDR[USDC], 1000, "q") is None
    bad = [
        {"sellAmount": "999"},  # not what was asked
        {"buyToken": ADDR[DAI]},
        {"buyAmount": "1.5"},
        {"buyAmount": 3000},  # a number, not a decimal string
        {"buyAmount": str(2**256)},
        {"transaction": {"to": "0x12", "data": "0x2213bc0b", "value": "0"}},
        {"transaction": {"to": HOLDER, "data": "0x", "value": "0"}},
        {"allowanceTarget": ADDR[DAI]},  # disagrees with issues.allowance.spender
    ]
    for over in bad:
        with pytest.raises(AggregatorError):
            parse_quote(_quote_body(**over), ADDR[WETH], ADDR[USDC], 1000, "q")
    p = parse_price(_quote_body(), ADDR[WETH], ADDR[USDC], 1000, "p")
    assert p == Price(ADDR[WETH], ADDR[USDC], 1000, 3000, None, 7)


def test_a_quote_is_vetted_before_it_may_run() -> None:
    leg = PlanLeg(AGG_ID, WETH, USDC, 1000, 3000, 2985)
    assert vet(ROUTE, leg, _quote()) == _quote()
    cases = {
        "no liquidity": None,
        "not an allowed target": _quote(transaction={"to": ADDR[DAI], "data": "0x2213bc0b", "value": "0"}),
        "not an allowed spender": _quote(allowanceTarget=ADDR[DAI], issues=None),
        "names no allowance target": _quote(allowanceTarget=None, issues=None),
        "wei of ETH": _quote(transaction={"to": HOLDER, "data": "0x2213bc0b", "value": "1"}),
        "below the leg's min-out 2985": _quote(buy=2984),
    }
    for why, q in cases.items():
        with pytest.raises(Rejected, match=why) as info:
            vet(ROUTE, leg, q)
        assert info.value.venue == AGG_ID


def test_a_simulation_short_of_the_quote_is_refused_within_the_tolerance() -> None:
    quotes = {1: VettedQuote(1, AGG_ID, _quote(buy=10_000), 0)}
    check_simulated(quotes, [5, 10_000])
    with pytest.raises(Rejected, match="9999, 1 short of the 10000 quoted"):
        check_simulated(quotes, [5, 9_999])
    check_simulated({1: VettedQuote(1, AGG_ID, _quote(buy=10_000), 10)}, [5, 9_990])  # 10 bps allowed


# --- the executor plan -----------------------------------------------------------------------------------------------


def test_stableswap_and_aggregator_legs_become_executor_legs() -> None:
    legs = [
        PlanLeg(f"{SS.id}:0->2", USDC, DAI, 5 * 10**6, 5 * 10**18, 4 * 10**18),
        PlanLeg(AGG_ID, WETH, USDC, 1000, 3000, 2985),
    ]
    venues: dict[str, object] = {f"{SS.id}:0->2": SS.pair_view(USDC, DAI), AGG_ID: AGG}
    ordered = calls_first(legs, venues)
    assert ordered == [legs[1], legs[0]]  # the quote was computed on the chain as it is: it runs first
    with pytest.raises(InvalidInput, match="vetted quote"):
        chain_exec_plan(ordered, venues, ADDR, recipient=EXECUTOR, deadline=10)  # type: ignore[arg-type]
    quotes = {0: VettedQuote(0, AGG_ID, _quote(), 0)}
    plan = chain_exec_plan(ordered, venues, ADDR, recipient=EXECUTOR, deadline=10, quotes=quotes)  # type: ignore[arg-type]
    call, swap = plan.legs
    assert (call.kind, call.pool.lower(), call.amount_in, call.min_out) == (ex.LegKind.CALL, HOLDER, 1000, 2985)
    assert call.call is not None and call.call.spender.lower() == HOLDER and call.call.data == _quote().data
    assert (swap.kind, swap.coin_in, swap.coin_out, swap.amount_in) == (ex.LegKind.STABLESWAP, 0, 2, ex.ALL)
    assert [p.amount for p in plan.pulls] == [1000]  # the StableSwap leg spends ALL the quote delivered
    assert plan.calldata()[:4] == ex.EXECUTE_WITH_CALLS_SELECTOR and plan.calls[0].data == _quote().data


def test_an_aggregator_leg_sells_exactly_the_quoted_amount_even_as_the_last_consumer() -> None:
    v3 = UniswapV3Pool(f"{L}:uniswap_v3:{V3}", L, V3, USDT, USDC, 100, 1, 2**96, 10**20, 0, (), 100_000, 1)
    agg = Aggregator(aggregator_venue_id(L, "labagg", "USDC", "DAI"), L, USDC, DAI, ((10**6, 10**18),), 1)
    legs = [PlanLeg(v3.id, USDT, USDC, 10**6, 999_000, 990_000), PlanLeg(agg.id, USDC, DAI, 999_000, 10**18, 1)]
    quotes = {1: VettedQuote(1, agg.id, _quote(), 0)}
    plan = chain_exec_plan(legs, {v3.id: v3, agg.id: agg}, ADDR, recipient=EXECUTOR, deadline=1, quotes=quotes)
    assert plan.legs[0].amount_in == 10**6 and plan.legs[1].amount_in == 999_000  # not ALL: the calldata's amount


# --- blame after a refusal -------------------------------------------------------------------------------------------


def test_a_refusal_blames_the_leg_it_names_and_spares_the_others() -> None:
    legs = [
        PlanLeg(AGG_ID, WETH, USDC, 1, 1, 1),
        PlanLeg(aggregator_venue_id(L, "labagg", "WETH", "DAI"), WETH, DAI, 1, 1, 1),
        PlanLeg(SS.id, USDC, DAI, 1, 1, 1),
    ]
    by_venue = {r.venue: r.reason or "" for r in refused(legs, 0, Rejected("x", venue=AGG_ID))}
    assert not by_venue[AGG_ID].startswith(BYSTANDER) and not by_venue[legs[1].venue].startswith(BYSTANDER)
    assert by_venue[SS.id].startswith(BYSTANDER)  # same aggregator blamed whole; the pool may run again
    inner = keccak(text="TooMuchSlippage(address,uint256,uint256)")[:4] + encode(
        ["address", "uint256", "uint256"], [ADDR[USDC], 10, 7]
    )
    data = keccak(text="CallFailed(uint256,bytes)")[:4] + encode(["uint256", "bytes"], [0, inner])
    results = refused(legs, 0, SimulationReverted("reverted", "CallFailed(uint256,bytes)", data))
    assert "TooMuchSlippage(token=" in (results[0].reason or "") and "expected=10, actual=7" in (
        results[0].reason or ""
    )
    assert (results[2].reason or "").startswith(BYSTANDER)
    min_out = keccak(text="LegMinOut(uint256,uint256,uint256)")[:4] + encode(["uint256"] * 3, [2, 5, 6])
    results = refused(legs, 0, SimulationReverted("reverted", "LegMinOut", min_out))
    assert [(r.reason or "").startswith(BYSTANDER) for r in results] == [True, True, False]
    assert all(r.status is LegStatus.FAILED and r.ref is None for r in results)
    plain = refused(legs, 0, Rejected("approval not confirmed"))
    assert {r.reason for r in plain} == {"approval not confirmed"}  # nothing named: every venue is suspect
    err = ex.decode_error(data)
    assert err is not None and "stale quote" in explain(err)


def test_one_direction_per_n_coin_pool_per_plan() -> None:
    legs = (
        PlanLeg(f"{SS.id}:0->2", USDC, DAI, 5, 5, 5),
        PlanLeg(f"{SS.id}:0->1", USDC, USDT, 9, 9, 9),
        PlanLeg(f"{SS.id}:1->2", USDT, DAI, 7, 7, 7),
    )
    plan = Plan("USDC@lab1", "DAI@lab1", 14, 14, 14, 0, 14, legs, (), PlanStats(0, 0.0))
    views = [SS.pair_view(a, b) for a, b in SS.pairs()]
    assert shared_pool_legs(plan, views) == {f"{SS.id}:0->2", f"{SS.id}:1->2"}  # the largest direction stays
    assert (
        shared_pool_legs(Plan("USDC@lab1", "DAI@lab1", 5, 5, 5, 0, 5, legs[:1], (), PlanStats(0, 0.0)), views) == set()
    )


# --- the output of each leg, from the receipt ----------------------------------------------------------------------


def _topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:]


def _log(address: str, topics: Sequence[str], *words: int) -> dict[str, Any]:
    return {"address": address, "topics": list(topics), "data": "0x" + b"".join(w.to_bytes(32, "big", signed=True)
                                                                                  for w in words).hex()}  # fmt: skip


def test_a_call_legs_output_is_what_moved_into_the_executor_during_it() -> None:
    call = ex.ExecLeg.external(HOLDER, ADDR[WETH], ADDR[USDC], 1000, 1, b"\x01", HOLDER)
    v3 = ex.ExecLeg.v3(V3, ADDR[WETH], ADDR[USDC], 500, 2000, 1)
    stable = ex.ExecLeg.stableswap(POOL, ADDR[USDC], ADDR[DAI], 0, 2, ex.ALL, 1)
    agg = "0x" + "77" * 20
    logs = [
        _log(ADDR[WETH], [TRANSFER, _topic(EXECUTOR.replace("ee", "e1")), _topic(EXECUTOR)], 3000),  # the pull
        _log(ADDR[WETH], [APPROVAL, _topic(EXECUTOR), _topic(HOLDER)], 1000),  # the CALL leg starts
        _log(ADDR[WETH], [TRANSFER, _topic(EXECUTOR), _topic(agg)], 1000),
        _log(ADDR[USDC], [TRANSFER, _topic(agg), _topic(EXECUTOR)], 2990),
        _log(ADDR[USDC], [TRANSFER, _topic(V3), _topic(EXECUTOR)], 6000),  # the V3 leg pays out ...
        _log(V3, [V3_SWAP, _topic(EXECUTOR), _topic(EXECUTOR)], 2000, -6000, 0, 0, 0),  # ... and says so
        _log(ADDR[USDC], [APPROVAL, _topic(EXECUTOR), _topic(POOL)], 8990),
        _log(ADDR[DAI], [TRANSFER, _topic(POOL), _topic(EXECUTOR)], 8 * 10**18),
        _log(POOL, [TOKEN_EXCHANGE, _topic(EXECUTOR)], 0, 8990, 2, 8 * 10**18),
    ]
    receipt = {"to": EXECUTOR, "logs": logs}
    assert leg_outputs(receipt, [call, v3, stable]) == [2990, 6000, 8 * 10**18]


# --- sampling an aggregator into the snapshot ----------------------------------------------------------------------


@dataclass
class FakeClient:
    answers: dict[int, Price | FillpathError | None]
    asked: list[int] = field(default_factory=list)

    async def price(self, sell: str, buy: str, amount: int, taker: str | None = None) -> Price | None:
        self.asked.append(amount)
        got = self.answers[amount]
        if isinstance(got, FillpathError):
            raise got
        return got


def _price(amount: int, out: int, gas: int | None = 150_000) -> Price:
    return Price(ADDR[WETH], ADDR[USDC], amount, out, gas, 1)


def _source(client: FakeClient, sizes: tuple[int, ...]) -> AggregatorSource:
    pair = SampledPair(TokenSide("WETH", ADDR[WETH]), TokenSide("USDC", ADDR[USDC]), sizes)
    return AggregatorSource("labagg", L, client, EXECUTOR, (pair,))  # type: ignore[arg-type]


def test_samples_make_a_curve_and_a_failing_api_costs_one_answer() -> None:
    client = FakeClient({1: _price(1, 30), 2: _price(2, 50), 3: _price(3, 45), 4: None, 5: _price(5, 90, 250_000)})
    read = asyncio.run(read_aggregator(_source(client, (1, 2, 3, 4, 5))))
    (venue,) = read.venues
    assert venue["id"] == AGG_ID and aggregator_name(venue["id"]) == "labagg" and aggregator_name(SS.id) is None
    assert venue["samples"] == [["1", "30"], ["2", "50"], ["5", "90"]]  # 3 paid less than 2; 4 had no liquidity
    assert venue["gas"] == str(250_000 - 21_000 + 85_000)
    down = FakeClient({n: Retryable("no answer within 2s") for n in range(1, 40)})
    read = asyncio.run(read_aggregator(_source(down, tuple(range(1, 40)))))
    assert read.venues == [] and "no answer" in read.problems[0]
    assert len(down.asked) <= 8  # the ones already in flight, not one timeout per size
