"""The whole swap on the lab: WETH on lab1 and ETH on the lab's exchange → USDC, through the real engine.

Chain legs: realized == expected to the wei (nobody else trades on the lab). Exchange legs: the book walks
every second, so realized is close to, not equal to, expected; the order is protected by its min-out.
After one reconciliation pass the ledger equals every venue.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fillpath.app import ExecutionParts, chain_sources, execution_parts
from fillpath.cex.client_ids import client_order_id
from fillpath.chains.balances import ChainBalances
from fillpath.config import Config
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.result import LegStatus
from fillpath.lab import lab_config
from fillpath.lab.manager import Lab
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.model.events import BalanceAdjusted, ExecutionFinished, ExecutionStarted, VenueHalted
from fillpath.router.request import RouteRequest
from fillpath.state.reconciler import Reconciler
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from tests.chains.helpers import funded_signer
from tests.conftest import Chain
from tests.labstate import level_books


@pytest.fixture
def lab_cfg(lab1: Chain, tmp_path: Path) -> Config:
    lab_dir = Path(os.environ["FILLPATH_TEST_LAB_DIR"])
    return lab_config(lab_dir, database_url=f"sqlite:///{tmp_path / 'engine.db'}")


def _admin(cfg: Config, path: str) -> Any:
    url = Lab(cfg.data_dir).exchange_status().url
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as r:
        return json.loads(r.read())


async def _reconcile(parts: ExecutionParts, store: Store, cfg: Config, holder: str) -> list[Any]:
    sources: list[Any] = [
        ChainBalances(rpc, replace(src, holder=holder), confirmations=0) for rpc, src in chain_sources(cfg)
    ]
    chains = list(sources)
    sources += [d.venue for d in parts.drivers.values()]  # the exchanges' connectors: the parts close them
    try:
        return await Reconciler(store, sources).run_once()
    finally:
        for s in chains:
            await s.close()


def test_a_swap_across_a_chain_and_the_exchange_is_exact_on_chain_and_booked(lab1: Chain, lab_cfg: Config) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"WETH": 300})
    lab = Lab(lab_cfg.data_dir)
    lab.fund({"ETH@labex": "150"})  # the exchange account is shared by the session's tests
    # labex's books walk all session long, each on its own: minutes later ETH/BTC x BTC/USDT no longer agrees with
    # ETH/USDT and the router's split (which labex paths, which commit) is another one. Back to the lab's prices.
    level_books(lab)
    store = Store.open(lab_cfg.resolved_database_url)

    async def go() -> Any:
        parts = await execution_parts(lab_cfg, store, signers={"lab1": signer})
        try:
            await _reconcile(parts, store, lab_cfg, signer.address)  # opens the ledger
            engine = Engine(parts.wiring)
            # more than lab1 holds (an earlier test may have left WETH with this account): labex's ETH must sell too
            held = lab1.contract("WETH").functions.balanceOf(signer.address).call()
            request = SwapRequest(RouteRequest("WETH@lab1,ETH@labex", held + 100 * 10**18, "USDC", max_hops=3))
            result = await engine.run(request, dry_run=False)
            after = await _reconcile(parts, store, lab_cfg, signer.address)
            return result, after
        finally:
            await parts.close()

    result, after = asyncio.run(go())
    assert result.status == "done", json.dumps(result.to_json()["legs"], indent=1)
    locations = {leg.asset_in.location for leg in result.legs}
    assert locations == {"lab1", "labex"}  # both inventories were used
    for leg in result.legs:
        assert leg.status is LegStatus.DONE
        if leg.asset_in.location == "lab1":
            assert leg.realized_out == leg.expected_out  # to the wei
    usdc_lab1 = lab1.contract("USDC").functions.balanceOf(signer.address).call()
    assert usdc_lab1 == sum(x.realized_out or 0 for x in result.legs if x.asset_out == AssetId("USDC", "lab1"))
    # every intent resolved good, one order per intent at the venue
    intents = [i for i in store.intents().values() if i.intent_id.startswith(result.execution_id)]
    assert intents and all(i.status is IntentStatus.GOOD for i in intents)
    cex_intents = [i for i in intents if i.action == "cex.order"]
    refs = {i.ref for i in cex_intents}  # each exchange intent names the client order id derived from it
    assert cex_intents and all(i.ref == client_order_id(i.intent_id) for i in cex_intents)
    sent = [r for r in _admin(lab_cfg, "/admin/requests") if r.get("client_order_id") in refs]
    assert sorted(r["client_order_id"] for r in sent) == sorted(i.ref for i in cex_intents)  # type: ignore[type-var]
    # after reconciliation the ledger equals every venue: nothing to adjust beyond the exchange's sub-unit dust
    for p in after:
        for f in p.findings:
            assert f.action in ("ok", "open"), (p.venue, f)
    # the journal tells the story: started, then finished with the same figures
    kinds = [r.event for r in store.events() if isinstance(r.event, ExecutionStarted | ExecutionFinished)]
    assert [type(e).__name__ for e in kinds] == ["ExecutionStarted", "ExecutionFinished"]
    finished = kinds[-1]
    assert isinstance(finished, ExecutionFinished) and finished.realized_out == result.realized_out
    # the plan is on record before anything is signed; every root step's records (the chain's transaction, each
    # exchange order spending a holding) are one commit at the decision: one fsync between decision and wire
    records = list(store.events())
    started = next(r for r in records if isinstance(r.event, ExecutionStarted))
    intents = [r for r in records if r.event.kind == "intent.created"]
    assert all(started.seq < r.seq for r in intents)
    decision = [r for r in intents if r.recv_ns == intents[0].recv_ns]
    assert {r.event.venue for r in decision} == {"lab1", "labex"}
    kinds_at_decision = {r.event.kind for r in records if r.recv_ns == decision[0].recv_ns}
    assert {"nonce.allocated", "intent.created", "tx.broadcast", "order.submitted"} <= kinds_at_decision
    assert result.decomposition is not None and result.decomposition.realized == result.realized_out
    assert Decimal(result.realized_out) > 0
    store.close()


def test_a_dry_run_records_its_start_and_end_and_nothing_meant_to_be_sent(lab1: Chain, lab_cfg: Config) -> None:
    store = Store.open(lab_cfg.resolved_database_url)
    Lab(lab_cfg.data_dir).fund({"WETH@lab1": "20"})  # a dry run's guards read what the snapshot holds

    async def go() -> Any:
        parts = await execution_parts(lab_cfg, store, signers=None)
        try:
            request = SwapRequest(RouteRequest("WETH@lab1", 10 * 10**18, "USDC", max_hops=2))
            return await Engine(parts.wiring).run(request, dry_run=True)
        finally:
            await parts.close()

    result = asyncio.run(go())
    assert result.status == "dry_run" and result.legs
    assert all(leg.status is LegStatus.SIMULATED for leg in result.legs) and result.realized_out == 0
    # no leg commits in a dry run: the start is appended on its own, after the simulations, before the end
    assert [r.event.kind for r in store.events()] == ["execution.started", "execution.finished"]
    store.close()


def test_the_router_skips_a_halted_venue_and_docks_a_degraded_one(lab1: Chain, lab_cfg: Config) -> None:
    """Health is read on the cold path: a halted book is routed around, not refused by a guard after routing."""
    store = Store.open(lab_cfg.resolved_database_url)
    store.append(BalanceAdjusted("labex", AssetId("ETH", "labex"), Decimal(50), "deposit"))

    async def plan(sell: str) -> Any:
        parts = await execution_parts(lab_cfg, store, signers=None)
        try:
            return await Engine(parts.wiring).run(
                SwapRequest(RouteRequest(sell, 20 * 10**18, "USDT@labex", max_hops=2)), dry_run=True
            )
        finally:
            await parts.close()

    free = asyncio.run(plan("ETH@labex"))
    first = free.legs[0].venue  # ETH/USDT, or ETH/BTC then BTC/USDT when the shared book has been walked
    assert first in ("labex:ETH/USDT", "labex:ETH/BTC")
    store.append(VenueHalted(first, "operator: book under maintenance"))
    around = asyncio.run(plan("ETH@labex"))
    venues = {leg.venue for leg in around.legs}
    assert around.legs and first not in venues
    store.close()


def test_a_configuration_whose_decimals_disagree_with_the_chain_is_refused(lab1: Chain, lab_cfg: Config) -> None:
    """The edge converted the human amount with the configuration's unit; the venues say otherwise: nothing runs."""
    Lab(lab_cfg.data_dir).fund({"WETH@lab1": "1"})  # lab1 reverts to its seeded state after the test
    store = Store.open(lab_cfg.resolved_database_url)

    async def plan(decimals: int) -> Any:
        parts = await execution_parts(lab_cfg, store, signers=None)
        try:
            route = RouteRequest("WETH@lab1", 10**18, "USDC@lab1", max_hops=2)
            return await Engine(parts.wiring).run(SwapRequest(route, sell_decimals=decimals), dry_run=True)
        finally:
            await parts.close()

    with pytest.raises(InvalidInput, match="WETH@lab1 has 18 decimals on the venues, 6 in the configuration"):
        asyncio.run(plan(6))
    assert asyncio.run(plan(18)).plan.amount_in == 10**18
    store.close()
