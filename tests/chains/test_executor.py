"""FillpathExecutor on the lab (anvil and eth-tester): plans run atomically, every leg returns exactly what
Router02/QuoterV2 compute for it in sequence, and the failures say why."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from web3 import Web3

from fillpath.chains.executor import (
    ALL,
    ERRORS,
    EXECUTE_SIGNATURE,
    EXECUTE_WITH_CALLS_SIGNATURE,
    NATIVE,
    ExecLeg,
    ExecPlan,
    ExecutionReverted,
    LegKind,
    build_tx,
    decode_error,
    simulate,
    v3_pool_address,
)
from fillpath.lab.chains.artifacts import load
from fillpath.model.errors import InvalidInput
from tests.conftest import Chain


def _signature(item: dict[str, Any]) -> str:
    def typ(p: dict[str, Any]) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(typ(c) for c in p["components"]) + ")" + p["type"][5:]
        return str(p["type"])

    return f"{item['name']}({','.join(typ(p) for p in item['inputs'])})"


def test_the_python_abi_is_the_contracts() -> None:
    abi = load("FillpathExecutor").abi
    functions = {_signature(i) for i in abi if i["type"] == "function"}
    assert EXECUTE_SIGNATURE in functions
    assert EXECUTE_WITH_CALLS_SIGNATURE in functions
    custom = {_signature(i) for i in abi if i["type"] == "error"}
    ours = {f"{n}({','.join(t)})" for n, t, _ in ERRORS if n not in ("Error", "Panic")}
    assert ours == custom


def test_a_plan_supplies_what_no_earlier_leg_produces() -> None:
    weth, usdc, dai = ("0x" + c * 40 for c in "abc")
    p = "0x" + "1" * 40
    legs = [
        ExecLeg.v2(p, weth, usdc, 5, 1),
        ExecLeg.v3(p, weth, usdc, 500, 7, 1),
        ExecLeg.v2(p, usdc, dai, ALL, 1),
        ExecLeg.v2(p, dai, usdc, 3, 0),  # dai is produced by leg 2: not pulled
    ]
    plan = ExecPlan.build(legs[:3], dai, 1, p, 100)
    assert [(x.token.lower(), x.amount) for x in plan.pulls] == [(weth, 12)]
    assert plan.value == 0
    with pytest.raises(InvalidInput, match=r"legs\[0\]\.amount_in"):
        ExecPlan.build([ExecLeg.v2(p, usdc, dai, ALL, 0)], dai, 0, p, 1)
    with pytest.raises(InvalidInput, match="output token is also an input"):
        ExecPlan.build([ExecLeg.v2(p, usdc, dai, 3, 0), ExecLeg.v2(p, dai, usdc, ALL, 0)], usdc, 0, p, 1)
    with pytest.raises(InvalidInput, match="token_out"):
        ExecPlan.build(legs[:1], dai, 0, p, 1)
    with pytest.raises(InvalidInput, match="amount_in"):
        ExecLeg.v2(p, weth, usdc, 0, 0)
    eth_in = ExecPlan.build([ExecLeg.wrap(weth, 9), ExecLeg.v2(p, weth, usdc, ALL, 0)], usdc, 0, p, 1)
    assert (eth_in.value, eth_in.pulls) == (9, ())


def test_legs_are_checked_when_built() -> None:
    weth, usdc, p = ("0x" + c * 40 for c in "ab1")
    with pytest.raises(InvalidInput, match="change the asset"):
        ExecLeg.v2(p, weth, weth, 1, 0)
    with pytest.raises(InvalidInput, match="wrap is ETH"):
        ExecLeg(LegKind.WRAP, Web3.to_checksum_address(usdc), Web3.to_checksum_address(weth), 1, 0)
    with pytest.raises(InvalidInput, match="swap leg"):
        ExecLeg(LegKind.UNISWAP_V3, NATIVE, Web3.to_checksum_address(weth), 1, 0, Web3.to_checksum_address(p), 500)
    with pytest.raises(InvalidInput, match="fee_ppm"):
        ExecLeg.v2(p, weth, usdc, 1, 0, fee_ppm=1_000_000)


def test_v3_pool_address_is_where_the_lab_pools_are(chain: Chain) -> None:
    d = chain.deployment
    for pool in d.pools:
        if pool.kind == "uniswap_v3":
            a, b = d.address(pool.token1), d.address(pool.token0)  # order does not matter
            assert v3_pool_address(d.address("UniswapV3Factory"), a, b, pool.fee_ppm) == pool.address


def test_decode_error_names_the_arguments() -> None:
    sel = keccak(text="LegMinOut(uint256,uint256,uint256)")[:4]
    err = decode_error(sel + (2).to_bytes(32, "big") + (10).to_bytes(32, "big") + (11).to_bytes(32, "big"))
    assert err is not None
    assert (err.name, err.arg("index"), err.arg("got"), err.arg("min")) == ("LegMinOut", 2, 10, 11)
    assert str(err) == "LegMinOut(index=2, got=10, min=11)"
    assert decode_error(b"\x00\x01\x02\x03") is None


# ------------------------------------------------------------------------------------------------ on the lab


def _v2_out(chain: Chain, a: str, b: str, amount: int) -> int:
    router = chain.contract("UniswapV2Router02")
    return int(
        router.functions.getAmountsOut(amount, [chain.contract(a).address, chain.contract(b).address]).call()[-1]
    )


def _v3_out(chain: Chain, a: str, b: str, fee: int, amount: int) -> int:
    quoter = chain.contract("QuoterV2")
    params = (chain.contract(a).address, chain.contract(b).address, amount, fee, 0)
    return int(quoter.functions.quoteExactInputSingle(params).call()[0])


def _balances(chain: Chain, who: str, *symbols: str) -> dict[str, int]:
    return {s: int(chain.contract(s).functions.balanceOf(who).call()) for s in symbols}


def _approve(chain: Chain, plan: ExecPlan, executor: str) -> None:
    for p in plan.pulls:
        token = chain.w3.eth.contract(address=p.token, abi=load("ERC20").abi)
        tx = token.functions.approve(executor, p.amount).transact({"from": chain.dev})
        assert chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1


def _send(chain: Chain, executor: str, plan: ExecPlan) -> Any:
    tx = chain.w3.eth.send_transaction(build_tx(executor, plan, chain.dev))
    return chain.w3.eth.wait_for_transaction_receipt(tx)


def _assert_clean(chain: Chain, executor: str) -> None:
    """Nothing stays in the executor, and the approvals were used up exactly."""
    for s in ("WETH", "USDC", "USDT", "DAI", "WBTC"):
        token = chain.contract(s)
        assert token.functions.balanceOf(executor).call() == 0, s
        assert token.functions.allowance(chain.dev, executor).call() == 0, s
    assert chain.w3.eth.get_balance(executor) == 0


def _split_plan(
    chain: Chain, a: int, b: int, c: int, *, min_bump: tuple[int, int, int, int] = (0, 0, 0, 0)
) -> tuple[ExecPlan, list[int]]:
    """WETH → USDC over the V2 pair (a), the 0.05% pool (b) and the 0.3% pool (c): three independent legs."""
    d = chain.deployment
    weth, usdc = d.address("WETH"), d.address("USDC")
    q = [
        _v2_out(chain, "WETH", "USDC", a),
        _v3_out(chain, "WETH", "USDC", 500, b),
        _v3_out(chain, "WETH", "USDC", 3000, c),
    ]
    legs = [
        ExecLeg.v2(d.pool("uniswap_v2", "WETH", "USDC").address, weth, usdc, a, q[0] + min_bump[0]),
        ExecLeg.v3(d.pool("uniswap_v3", "WETH", "USDC", 500).address, weth, usdc, 500, b, q[1] + min_bump[1]),
        ExecLeg.v3(d.pool("uniswap_v3", "WETH", "USDC", 3000).address, weth, usdc, 3000, c, q[2] + min_bump[2]),
    ]
    return ExecPlan.build(legs, usdc, sum(q) + min_bump[3], chain.dev, chain.deadline()), q


def test_three_legs_execute_atomically_each_as_quoted(chain: Chain) -> None:
    executor = chain.deployment.address("FillpathExecutor")
    a, b, c = 150 * 10**18, 1_200 * 10**18, 90 * 10**18
    plan, q = _split_plan(chain, a, b, c)
    assert [(p.token, p.amount) for p in plan.pulls] == [(chain.deployment.address("WETH"), a + b + c)]
    _approve(chain, plan, executor)
    simulated = simulate(chain.w3, executor, plan, chain.dev)
    assert simulated.amounts_out == tuple(q)
    assert simulated.total_out == sum(q)

    before = _balances(chain, chain.dev, "WETH", "USDC")
    receipt = _send(chain, executor, plan)
    assert receipt["status"] == 1
    after = _balances(chain, chain.dev, "WETH", "USDC")
    assert before["WETH"] - after["WETH"] == a + b + c
    assert after["USDC"] - before["USDC"] == sum(q)  # exactly what eth_call promised
    _assert_clean(chain, executor)


def test_two_hops_use_what_the_first_leg_produced(chain: Chain) -> None:
    """DAI → USDC (V2) → WETH (V3 0.05%, amount 'all'): the second leg's quote is on the first one's output."""
    d = chain.deployment
    executor = d.address("FillpathExecutor")
    amount = 250_000 * 10**18
    q0 = _v2_out(chain, "DAI", "USDC", amount)
    q1 = _v3_out(chain, "USDC", "WETH", 500, q0)
    legs = [
        ExecLeg.v2(d.pool("uniswap_v2", "DAI", "USDC").address, d.address("DAI"), d.address("USDC"), amount, q0),
        ExecLeg.v3(
            d.pool("uniswap_v3", "WETH", "USDC", 500).address, d.address("USDC"), d.address("WETH"), 500, ALL, q1
        ),
    ]
    plan = ExecPlan.build(legs, d.address("WETH"), q1, chain.dev, chain.deadline())
    _approve(chain, plan, executor)
    assert simulate(chain.w3, executor, plan, chain.dev).amounts_out == (q0, q1)
    before = _balances(chain, chain.dev, "DAI", "USDC", "WETH")
    assert _send(chain, executor, plan)["status"] == 1
    after = _balances(chain, chain.dev, "DAI", "USDC", "WETH")
    assert (before["DAI"] - after["DAI"], after["USDC"] - before["USDC"], after["WETH"] - before["WETH"]) == (
        amount,
        0,
        q1,
    )
    _assert_clean(chain, executor)


def test_eth_in_is_wrapped_then_sold(chain: Chain) -> None:
    d = chain.deployment
    executor = d.address("FillpathExecutor")
    amount = 40 * 10**18
    q = _v3_out(chain, "WETH", "USDC", 500, amount)
    pool = d.pool("uniswap_v3", "WETH", "USDC", 500).address
    legs = [
        ExecLeg.wrap(d.address("WETH"), amount),
        ExecLeg.v3(pool, d.address("WETH"), d.address("USDC"), 500, ALL, q),
    ]
    plan = ExecPlan.build(legs, d.address("USDC"), q, chain.dev, chain.deadline())
    assert plan.value == amount
    assert simulate(chain.w3, executor, plan, chain.dev).amounts_out == (amount, q)
    before = _balances(chain, chain.dev, "USDC")["USDC"]
    assert _send(chain, executor, plan)["status"] == 1
    assert _balances(chain, chain.dev, "USDC")["USDC"] - before == q
    _assert_clean(chain, executor)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_a_leg_below_its_minimum_reverts_naming_it(chain: Chain, which: int) -> None:
    executor = chain.deployment.address("FillpathExecutor")
    bump = tuple(1 if i == which else 0 for i in range(4))
    plan, q = _split_plan(chain, 10**18, 2 * 10**18, 3 * 10**18, min_bump=bump)  # type: ignore[arg-type]
    _approve(chain, plan, executor)
    with pytest.raises(ExecutionReverted) as info:
        simulate(chain.w3, executor, plan, chain.dev)
    err = info.value.error
    assert err is not None
    assert (err.name, err.arg("index"), err.arg("got"), err.arg("min")) == ("LegMinOut", which, q[which], q[which] + 1)


def test_too_little_in_total_reverts(chain: Chain) -> None:
    executor = chain.deployment.address("FillpathExecutor")
    plan, q = _split_plan(chain, 10**18, 2 * 10**18, 3 * 10**18, min_bump=(0, 0, 0, 1))
    _approve(chain, plan, executor)
    with pytest.raises(ExecutionReverted, match=rf"TotalMinOut\(got={sum(q)}, min={sum(q) + 1}\)"):
        simulate(chain.w3, executor, plan, chain.dev)


def test_a_passed_deadline_reverts(chain: Chain) -> None:
    executor = chain.deployment.address("FillpathExecutor")
    plan, _ = _split_plan(chain, 10**18, 10**18, 10**18)
    late = ExecPlan.build(plan.legs, plan.token_out, plan.min_total_out, plan.recipient, chain.deadline(-1))
    _approve(chain, late, executor)
    with pytest.raises(ExecutionReverted) as info:
        simulate(chain.w3, executor, late, chain.dev)
    err = info.value.error
    assert err is not None
    assert err.name == "DeadlinePassed"
    assert err.arg("deadline") == late.deadline < err.arg("timestamp")


def test_without_the_approval_the_pull_fails(chain: Chain) -> None:
    executor = chain.deployment.address("FillpathExecutor")
    plan, _ = _split_plan(chain, 10**18, 10**18, 10**18)
    with pytest.raises(ExecutionReverted) as info:
        simulate(chain.w3, executor, plan, chain.dev)
    assert info.value.error is not None
    assert info.value.error.name == "TransferFailed"
    assert info.value.error.arg("token") == chain.deployment.address("WETH")


def test_a_failing_leg_undoes_the_legs_before_it(chain: Chain) -> None:
    """Sent for real (gas given, so no estimate refuses it first): the third leg's minimum fails, and the first
    two legs' trades are gone with it."""
    d = chain.deployment
    executor = d.address("FillpathExecutor")
    plan, _ = _split_plan(chain, 10**18, 2 * 10**18, 3 * 10**18, min_bump=(0, 0, 1, 0))
    _approve(chain, plan, executor)
    pair = chain.w3.eth.contract(address=d.pool("uniswap_v2", "WETH", "USDC").address, abi=load("UniswapV2Pair").abi)
    reserves = pair.functions.getReserves().call()[:2]
    before = _balances(chain, chain.dev, "WETH", "USDC")
    tx = {**build_tx(executor, plan, chain.dev), "gas": 2_000_000}
    receipt = chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_transaction(tx))  # type: ignore[arg-type]
    assert receipt["status"] == 0
    assert _balances(chain, chain.dev, "WETH", "USDC") == before
    assert pair.functions.getReserves().call()[:2] == reserves
    weth = chain.contract("WETH")
    assert weth.functions.allowance(chain.dev, executor).call() == plan.pulls[0].amount  # still unspent
