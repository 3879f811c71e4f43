"""Aggregator and StableSwap legs through the real engine on lab1 (anvil), with the lab's aggregator service.

One plan mixes aggregator quotes, the StableSwap pool and Uniswap pools in one executor transaction, and realizes
exactly what it expected, to the unit (nobody else trades on the lab). Each aggregator fault — calldata that pays
less than quoted, a stale quote, a slow endpoint, a failing one — is refused before anything is sent for it, and the
rest of the trade is routed again without that aggregator: nothing is lost.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from fillpath.app import chain_sources, close_all, execution_parts
from fillpath.chains.accounts import Signer
from fillpath.chains.balances import ChainBalances
from fillpath.collect.aggregators import aggregator_name
from fillpath.config import Config
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.result import ExecutionResult, LegStatus
from fillpath.execution.runners import BYSTANDER
from fillpath.lab import lab_config
from fillpath.lab.aggregator import lab as labagg
from fillpath.lab.aggregator.routing import SKIM_RECIPIENT
from fillpath.lab.manager import Lab
from fillpath.router.request import RouteRequest
from fillpath.state.reconciler import Reconciler
from fillpath.state.store import Store
from tests.chains.helpers import funded_signer
from tests.conftest import Chain

SELL = 1500


@pytest.fixture
def lab_cfg(lab1: Chain, tmp_path: Path) -> Config:
    lab_dir = Path(os.environ["FILLPATH_TEST_LAB_DIR"])
    return lab_config(lab_dir, database_url=f"sqlite:///{tmp_path / 'agg.db'}")


@pytest.fixture
def agg_url(lab_cfg: Config) -> Iterator[str]:
    """The session lab's aggregator service, its faults cleared after the test."""
    url = Lab(lab_cfg.data_dir).aggregator_url()
    assert url is not None, "lab up starts the aggregator"
    try:
        yield url
    finally:
        labagg.set_faults(url, {})


def _swap(
    cfg: Config, signer: Signer, buy: str = "DAI@lab1", *, dry_run: bool = False
) -> tuple[ExecutionResult, Store]:
    store = Store.open(cfg.resolved_database_url)

    async def go() -> ExecutionResult:
        parts = await execution_parts(cfg, store, signers=None if dry_run else {"lab1": signer})
        try:
            if not dry_run:  # the ledger opens on the chain's balances
                sources = [ChainBalances(rpc, replace(src, holder=signer.address), confirmations=0)
                           for rpc, src in chain_sources(cfg) if src.location == "lab1"]  # fmt: skip
                await Reconciler(store, sources).run_once()
                await close_all(sources)
            request = SwapRequest(RouteRequest("WETH@lab1", SELL * 10**18, "DAI@lab1", max_hops=3))
            return await Engine(parts.wiring).run(request, dry_run=dry_run)
        finally:
            await parts.close()

    return asyncio.run(go()), store


def _kinds(result: ExecutionResult, attempt: int = 0) -> set[str]:
    return {leg.venue.split(":")[1] for leg in result.legs if leg.attempt == attempt}


def _balance(chain: Chain, symbol: str, who: str) -> int:
    return int(chain.contract(symbol).functions.balanceOf(Web3.to_checksum_address(who)).call())


def test_aggregator_stableswap_and_uniswap_legs_in_one_transaction_realize_exactly(
    lab1: Chain, lab_cfg: Config, agg_url: str
) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"WETH": SELL})
    result, store = _swap(lab_cfg, signer)
    assert result.status == "done", [(x.venue, x.reason) for x in result.legs]
    assert {"aggregator", "stableswap", "uniswap_v3"} <= _kinds(result)
    assert len({leg.ref for leg in result.legs}) == 1  # one executor transaction for every lab1 leg
    for leg in result.legs:
        assert leg.status is LegStatus.DONE
        assert leg.realized_out == leg.at_send == leg.expected_out, leg.venue  # to the unit
    assert result.realized_out == result.expected_out
    assert _balance(lab1, "DAI", signer.address) == result.realized_out
    assert _balance(lab1, "WETH", signer.address) == 0
    d = lab1.deployment
    executor, holder = d.address("FillpathExecutor"), d.address("LabAllowanceHolder")
    pool = d.pool("stableswap", "USDC", "DAI").address
    for symbol in ("WETH", "USDC", "USDT", "DAI"):  # nothing left behind, no allowance left standing
        token = lab1.contract(symbol)
        assert token.functions.balanceOf(executor).call() == 0
        assert token.functions.allowance(executor, holder).call() == 0
        assert token.functions.allowance(executor, pool).call() == 0
    intents = [i for i in store.intents().values() if i.intent_id.startswith(result.execution_id)]
    assert len(intents) == 1 and intents[0].status.value == "good"
    store.close()


def test_a_dry_run_quotes_and_simulates_the_aggregator_legs(lab1: Chain, lab_cfg: Config, agg_url: str) -> None:
    Lab(lab_cfg.data_dir).fund({"WETH@lab1": str(SELL)})  # a dry run's guards read the trader's holdings
    result, store = _swap(lab_cfg, funded_signer(lab1), dry_run=True)
    assert result.status == "dry_run" and "aggregator" in _kinds(result)
    assert all(x.status is LegStatus.SIMULATED and x.at_send == x.expected_out for x in result.legs)
    store.close()


def _refused_then_replanned(result: ExecutionResult, why: str) -> None:
    """Attempt 0 was refused before anything was sent (its aggregator legs name ``why``, the others are bystanders);
    attempt 1 ran without that aggregator and realized what it expected."""
    assert result.status == "done", [(x.venue, x.reason) for x in result.legs]
    first = [x for x in result.legs if x.attempt == 0]
    assert "aggregator" in _kinds(result, 0)
    assert first and all(x.status is LegStatus.FAILED and x.ref is None for x in first)  # never sent
    for x in first:
        if aggregator_name(x.venue):
            assert why in (x.reason or ""), x.reason
        else:
            assert (x.reason or "").startswith(BYSTANDER) or x.reason == "its input was not delivered", x.reason
    second = [x for x in result.legs if x.attempt == 1]
    assert second and "aggregator" not in _kinds(result, 1)
    assert all(x.status is LegStatus.DONE and x.realized_out == x.expected_out for x in second)


def _nothing_lost(chain: Chain, signer: Signer, result: ExecutionResult) -> None:
    spent = sum(x.amount_in for x in result.legs if x.attempt == 1 and x.asset_in.symbol == "WETH")
    assert spent == SELL * 10**18  # every wei of the sale ran, once
    assert _balance(chain, "WETH", signer.address) == 0
    assert _balance(chain, "DAI", signer.address) == result.realized_out


def test_calldata_that_pays_less_than_quoted_is_refused_before_send(lab1: Chain, lab_cfg: Config, agg_url: str) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"WETH": SELL})
    labagg.set_faults(agg_url, {"skim": {"bps": "5"}})  # 0.05%: inside a 0.5% min-out, caught by the quote check
    result, store = _swap(lab_cfg, signer)
    _refused_then_replanned(result, "its calldata pays less than its quote says")
    _nothing_lost(lab1, signer, result)
    assert _balance(lab1, "DAI", SKIM_RECIPIENT) == 0
    store.close()


def test_a_stale_quote_is_refused_by_the_simulation(lab1: Chain, lab_cfg: Config, agg_url: str) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"WETH": SELL})
    labagg.set_faults(agg_url, {"stale": {}})
    _ = asyncio.run(_price(agg_url, lab1))  # the service freezes the market it reads now
    for pool in lab1.deployment.aggregator_pools:  # then someone else sells 300 WETH into every LabSwap pair
        _sell_into(lab1, pool.address, 300 * 10**18)
    result, store = _swap(lab_cfg, signer)
    _refused_then_replanned(result, "TooMuchSlippage")
    _nothing_lost(lab1, signer, result)
    store.close()


@pytest.mark.parametrize(
    ("profile", "why"),
    [({"slow": {"delay": "3", "only": "quote"}}, "no answer within 2s"), ({"fail": {"only": "quote"}}, "HTTP 500")],
    ids=["slow", "failing"],
)
def test_a_slow_or_failing_quote_endpoint_is_refused_before_send(
    lab1: Chain, lab_cfg: Config, agg_url: str, profile: dict[str, dict[str, str]], why: str
) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"WETH": SELL})
    labagg.set_faults(agg_url, profile)  # prices answer (the snapshot has the aggregator), quotes do not
    result, store = _swap(lab_cfg, signer)
    _refused_then_replanned(result, why)
    _nothing_lost(lab1, signer, result)
    store.close()


def test_an_aggregator_that_does_not_answer_is_left_out_of_the_snapshot(
    lab1: Chain, lab_cfg: Config, agg_url: str
) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"WETH": SELL})
    labagg.set_faults(agg_url, {"fail": {}})
    result, store = _swap(lab_cfg, signer)
    assert result.status == "done" and "aggregator" not in _kinds(result)
    assert all(x.attempt == 0 and x.realized_out == x.expected_out for x in result.legs)
    store.close()


async def _price(url: str, chain: Chain) -> Any:
    from fillpath.chains.aggregator import ZeroExClient

    client = ZeroExClient("labagg", url, chain.deployment.chain_id)
    try:
        d = chain.deployment
        return await client.price(d.address("WETH"), d.address("DAI"), 10**18)
    finally:
        await client.close()


def _sell_into(chain: Chain, pair: str, amount: int) -> None:
    """Sell ``amount`` WETH into a V2 pair directly, as another trader would."""
    weth = chain.contract("WETH")
    c = chain.contract_at("UniswapV2Pair", pair)
    t0 = c.functions.token0().call()
    r0, r1, _ = c.functions.getReserves().call()
    r_in, r_out = (r0, r1) if t0 == weth.address else (r1, r0)
    out = amount * 997 * r_out // (r_in * 1000 + amount * 997)
    weth.functions.transfer(pair, amount).transact({"from": chain.dev})
    c.functions.swap(*((0, out) if t0 == weth.address else (out, 0)), chain.dev, b"").transact({"from": chain.dev})
