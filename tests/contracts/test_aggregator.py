"""The lab aggregator driven as its quote service will drive it (``fillpath.lab.contracts.aggregator``) on the
in-process lab chain: the quote transaction through the allowance holder pays what the pools quote, a skim pays
less and says so in its event, a stale minimum reverts with the aggregator's own error; and the Python ABI is the
artifact's."""

from __future__ import annotations

from typing import Any

import pytest

from fillpath.chains.executor import revert_data
from fillpath.lab.contracts import aggregator as agg
from fillpath.lab.contracts.artifacts import deploy
from fillpath.model.errors import InvalidInput
from tests.chains.test_executor import _v3_out
from tests.conftest import Chain
from tests.contracts.forge import send, signatures


def test_the_python_abi_is_the_contracts() -> None:
    assert {f.signature for f in agg.AGGREGATOR_FUNCTIONS} <= signatures("LabAggregator", "function")
    assert {f.signature for f in agg.HOLDER_FUNCTIONS} == signatures("LabAllowanceHolder", "function")
    assert {e.signature for e in agg.AGGREGATOR_EVENTS} == signatures("LabAggregator", "event")
    assert {e.signature for e in agg.AGGREGATOR_ERRORS} == signatures("LabAggregator", "error")
    assert {e.signature for e in agg.HOLDER_ERRORS} == signatures("LabAllowanceHolder", "error")


def test_hops_are_checked_when_built() -> None:
    a, b, p = ("0x" + c * 40 for c in "abc")
    with pytest.raises(InvalidInput, match="share"):
        agg.Hop.v3(p, a, b, bps=0)
    with pytest.raises(InvalidInput, match="coin indices"):
        agg.Hop.stableswap(p, a, b, 2, 2)
    with pytest.raises(InvalidInput, match="somewhere to go"):
        agg.Skim(bps=5)
    assert agg.Hop.stableswap(p, a, b, 1, 2).encoded()[1] == (1 << 8) | 2
    with pytest.raises(InvalidInput, match="first hop"):
        agg.SwapCall(b, 1, a, 0, p, (agg.Hop.v3(p, a, b),))  # type: ignore[arg-type]


@pytest.fixture
def desk(tester: Chain) -> tuple[Any, Any]:
    holder = deploy(tester.w3, tester.dev, "LabAllowanceHolder")
    return holder, deploy(tester.w3, tester.dev, "LabAggregator", holder.address)


def _swap(chain: Chain, amount: int, min_buy: int, skim: agg.Skim = agg.NO_SKIM) -> agg.SwapCall:
    d = chain.deployment
    weth, usdc = d.address("WETH"), d.address("USDC")
    hop = agg.Hop.v3(d.pool("uniswap_v3", "WETH", "USDC", 500).address, weth, usdc)
    return agg.SwapCall(weth, amount, usdc, min_buy, chain.dev, (hop,), skim)  # type: ignore[arg-type]


def _send(chain: Chain, tx: agg.Transaction) -> Any:
    sent = chain.w3.eth.send_transaction({"from": chain.dev, "to": tx.to, "data": tx.data, "gas": 2_000_000})  # type: ignore[typeddict-item]
    return chain.w3.eth.wait_for_transaction_receipt(sent)


@pytest.mark.parametrize("skim_bps", [0, 25])
def test_the_quote_transaction_pays_the_route(tester: Chain, desk: tuple[Any, Any], skim_bps: int) -> None:
    holder, aggregator = desk
    amount = 30 * 10**18
    q = _v3_out(tester, "WETH", "USDC", 500, amount)
    fee_taker = tester.w3.eth.accounts[6]
    skim = agg.Skim(fee_taker, skim_bps) if skim_bps else agg.NO_SKIM
    pays = q - q * skim_bps // 10_000
    tx = agg.holder_transaction(holder.address, aggregator.address, _swap(tester, amount, pays, skim))
    assert tx.to == tx.allowance_target == holder.address
    send(tester.w3, tester.contract("WETH").functions.approve(tx.allowance_target, amount), tester.dev)
    simulated = tester.w3.eth.call({"from": tester.dev, "to": tx.to, "data": tx.data})  # type: ignore[typeddict-item]
    assert agg.decode_exec_result(bytes(simulated)) == pays
    usdc = tester.contract("USDC")
    before = usdc.functions.balanceOf(tester.dev).call()
    receipt = _send(tester, tx)
    assert receipt["status"] == 1
    assert usdc.functions.balanceOf(tester.dev).call() - before == pays
    assert usdc.functions.balanceOf(fee_taker).call() == q - pays
    (swapped,) = [e for e in (agg.decode_swapped(log) for log in receipt["logs"]) if e]
    assert (swapped.taker, swapped.sell_amount, swapped.buy_amount, swapped.skimmed) == (
        tester.dev, amount, pays, q - pays
    )  # fmt: skip
    assert tester.contract("WETH").functions.allowance(tester.dev, holder.address).call() == 0


def test_a_stale_minimum_reverts_with_the_aggregators_error(tester: Chain, desk: tuple[Any, Any]) -> None:
    _, aggregator = desk
    q = _v3_out(tester, "WETH", "USDC", 500, 10**18)
    tx = agg.direct_transaction(aggregator.address, _swap(tester, 10**18, q + 1))
    send(tester.w3, tester.contract("WETH").functions.approve(tx.allowance_target, 10**18), tester.dev)
    with pytest.raises(Exception) as info:  # noqa: PT011 (the backend's own exception type)
        tester.w3.eth.call({"from": tester.dev, "to": tx.to, "data": tx.data})  # type: ignore[typeddict-item]
    data = revert_data(info.value)
    assert data is not None
    err = agg.decode_revert(data)
    assert err is not None
    assert (err.name, err.arg("minBuyAmount"), err.arg("buyAmount")) == ("TooMuchSlippage", q + 1, q)
