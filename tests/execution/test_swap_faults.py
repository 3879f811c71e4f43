"""Swaps under the simulator's fault profiles: nothing lost, nothing duplicated, the ledger equals every venue.

Each case runs the real engine on lab1 (anvil) and the lab's exchange simulator (over HTTP) with one fault
profile switched on, then recovery (what the swap left unknown), then one reconciliation pass. The simulator's
admin record of every order request is the ground truth for "exactly one order per intent".
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fillpath.app import chain_sources, execution_parts
from fillpath.chains.balances import ChainBalances
from fillpath.execution.engine import UNDELIVERED, Engine, SwapRequest
from fillpath.execution.recovery import recover
from fillpath.lab import lab_config
from fillpath.lab.manager import Lab
from fillpath.router.request import RouteRequest
from fillpath.state.reconciler import Reconciler
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from tests.chains.helpers import funded_signer
from tests.conftest import Chain


def _admin(lab_dir: Path, path: str, body: dict[str, Any] | None = None) -> Any:
    url = Lab(lab_dir).exchange_status().url
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}{path}", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


PROFILES = {
    "ack_then_deny": {"rate": "1"},
    "delayed_fills": {"delay": "1", "rate": "1"},
    "drop_response": {"rate": "1", "hang": "2"},
    "duplicate_fill": {"rate": "1"},
    "rate_limit": {"limit": "3", "retry_after": "1", "ban_after": "3", "ban": "1", "burst": "1"},
}


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_swap_under_an_exchange_fault_loses_and_duplicates_nothing(profile: str, lab1: Chain, tmp_path: Path) -> None:
    lab_dir = Path(os.environ["FILLPATH_TEST_LAB_DIR"])
    cfg = lab_config(lab_dir, database_url=f"sqlite:///{tmp_path / 'f.db'}")
    signer = funded_signer(lab1, eth=10, tokens={"WETH": 20})
    Lab(lab_dir).fund({"ETH@labex": "20"})  # the exchange account is shared by the session's tests
    store = Store.open(cfg.resolved_database_url)

    async def reconcile(parts: Any) -> list[Any]:
        chains = [ChainBalances(rpc, replace(src, holder=signer.address), confirmations=0)
                  for rpc, src in chain_sources(cfg) if src.location == "lab1"]  # fmt: skip
        try:
            return await Reconciler(store, [*chains, *(d.venue for d in parts.drivers.values())]).run_once()
        finally:
            for c in chains:
                await c.close()

    async def go() -> Any:
        parts = await execution_parts(cfg, store, signers={"lab1": signer})
        try:
            for d in parts.drivers.values():
                d.policy = replace(d.policy, grace_s=0.5, max_polls=40)
            await reconcile(parts)
            _admin(lab_dir, "/admin/faults", {"profiles": {profile: PROFILES[profile]}})
            try:
                request = SwapRequest(
                    RouteRequest("WETH@lab1,ETH@labex", 30 * 10**18, "USDC", max_hops=2), max_replans=1
                )
                result = await Engine(parts.wiring).run(request, dry_run=False)
            finally:
                _admin(lab_dir, "/admin/faults", {"profiles": {}})
            await asyncio.sleep(1.5)  # let delayed fills land before asking again
            resolved = await recover(store, parts.evm, parts.drivers, parts.assets_by_address)
            assert parts.wiring.health is not None
            parts.wiring.health.catch_up(store, time.time_ns())
            health = parts.wiring.health.book.score("labex", time.time_ns())
            return result, resolved, await reconcile(parts), health
        finally:
            await parts.close()

    result, resolved, after, health = asyncio.run(go())
    eid = result.execution_id
    if profile in ("ack_then_deny", "rate_limit"):  # venue health saw it (the journal, or the connector's 429s)
        assert health < 100, health
    assert all(r.outcome != "unknown" for r in resolved), resolved
    intents = [i for i in store.intents().values() if i.intent_id.startswith(eid)]
    assert intents and all(i.status is not IntentStatus.OPEN for i in intents)
    # exactly one order request per exchange intent; none the journal does not know
    refs = {i.ref for i in intents if i.action == "cex.order"}  # the client order ids derived from the intents
    requests = [r for r in _admin(lab_dir, "/admin/requests") if r["client_order_id"] in refs]
    new = [r["client_order_id"] for r in requests if r["kind"] == "new"]
    submitted = {cid for (_v, cid) in store.orders() if cid in refs}
    assert set(new) <= submitted  # nothing reached the venue that the journal did not record first
    placed = [r["client_order_id"] for r in requests if r["kind"] == "new" and r["outcome"] != "rejected"]
    assert len(set(placed)) == len(placed)  # one live order per client id, whatever was retried
    # after reconciliation the ledger equals every venue
    for p in after:
        for f in p.findings:
            assert f.action.value in ("ok", "open"), (profile, p.venue, f)
    store.close()


def test_a_leg_the_exchange_denies_is_replanned_without_that_venue(lab1: Chain, tmp_path: Path) -> None:
    """ETH → USDT is acked then denied; the ETH it did not sell goes again, on a fresh snapshot, by another path."""
    lab_dir = Path(os.environ["FILLPATH_TEST_LAB_DIR"])
    Lab(lab_dir).fund({"ETH@labex": "10"})
    cfg = lab_config(lab_dir, database_url=f"sqlite:///{tmp_path / 'r.db'}")
    store = Store.open(cfg.resolved_database_url)

    async def go() -> Any:
        parts = await execution_parts(cfg, store, signers={})
        try:
            for d in parts.drivers.values():
                d.policy = replace(d.policy, grace_s=0.3)
            await Reconciler(store, list(parts.exchanges)).run_once()
            take, calls = parts.wiring.snapshot, []

            async def snapshot() -> Any:
                calls.append(1)
                if len(calls) == 2:  # the venue behaves again by the time we re-plan
                    _admin(lab_dir, "/admin/faults", {"profiles": {}})
                return await take()

            parts.wiring.snapshot = snapshot
            _admin(lab_dir, "/admin/faults", {"profiles": {"ack_then_deny": {"rate": "1"}}})
            try:
                request = SwapRequest(RouteRequest("ETH@labex", 5 * 10**18, "USDT@labex", max_hops=2), max_replans=2)
                return await Engine(parts.wiring).run(request, dry_run=False)
            finally:
                _admin(lab_dir, "/admin/faults", {"profiles": {}})
        finally:
            await parts.close()

    result = asyncio.run(go())
    first = [leg for leg in result.legs if leg.attempt == 0]
    second = [leg for leg in result.legs if leg.attempt == 1]
    assert first and all(leg.status.value == "failed" for leg in first)
    denied = {leg.venue for leg in first if leg.reason != UNDELIVERED}
    assert denied and second and not denied & {leg.venue for leg in second}  # re-routed around the denying venue
    assert all(leg.status.value == "done" for leg in second)
    assert result.replans and result.status == "done" and result.realized_out > 0
    sold_first = sum(leg.amount_in for leg in first if leg.asset_in.symbol == "ETH")
    assert sum(leg.amount_in for leg in second if leg.asset_in.symbol == "ETH") == sold_first
    started = [r.event for r in store.events() if r.event.kind == "execution.started"]
    assert [getattr(e, "attempt", None) for e in started] == [0, 1]
    store.close()
