"""Shared by the cross-location tests: a fresh trading account on both lab chains, the session lab's configuration
with its own journal, a swap through the real engine, and reconciliation against every venue."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account import Account

from fillpath.app import ExecutionParts, chain_sources, execution_parts
from fillpath.chains.accounts import Signer
from fillpath.chains.balances import ChainBalances
from fillpath.config import Config
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.recovery import Resolution, recover
from fillpath.execution.result import ExecutionResult
from fillpath.lab import lab_config
from fillpath.lab.manager import Lab
from fillpath.router.request import RouteRequest
from fillpath.state.reconciler import PassResult, Reconciler
from fillpath.state.store import Store
from tests.conftest import Chain


def lab() -> Lab:
    return Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"]))


def cfg_for(tmp_path: Path, *, wait_s: float | None = None) -> Config:
    """The session lab's configuration with a journal of the test's own (and, if given, shorter transfer waits)."""
    cfg = lab_config(Path(os.environ["FILLPATH_TEST_LAB_DIR"]), database_url=f"sqlite:///{tmp_path / 'x.db'}")
    if wait_s is None:
        return cfg
    bridges = {n: b.model_copy(update={"wait_s": wait_s}) for n, b in cfg.bridges.items()}
    transfers = tuple(t.model_copy(update={"wait_s": wait_s}) for t in cfg.transfers)
    return cfg.model_copy(update={"bridges": bridges, "transfers": transfers})


def trader(chains: Mapping[str, Chain], holdings: Mapping[str, Mapping[str, int]]) -> Signer:
    """A brand-new account with gas on every chain given and ``holdings`` (chain → symbol → human amount)."""
    signer = Signer(Account.create())
    for loc, chain in chains.items():
        chain.w3.eth.send_transaction({"from": chain.dev, "to": signer.address, "value": 10 * 10**18})
        for symbol, human in holdings.get(loc, {}).items():
            token = chain.contract(symbol)
            amount = human * 10 ** token.functions.decimals().call()
            token.functions.transfer(signer.address, amount).transact({"from": chain.dev})
    return signer


def admin(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}{path}", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def sim(path: str, body: dict[str, Any] | None = None) -> Any:
    url = lab().exchange_status().url
    assert url
    return admin(url, path, body)


def relayer(path: str, body: dict[str, Any] | None = None) -> Any:
    url = lab().relayer_url()
    assert url
    return admin(url, path, body)


@dataclass
class Run:
    result: ExecutionResult | None
    passes: list[PassResult]
    resolved: list[Resolution]


async def reconcile(parts: ExecutionParts, store: Store, cfg: Config, holder: str) -> list[PassResult]:
    chains = [(rpc, replace(src, holder=holder)) for rpc, src in chain_sources(cfg)]
    sources: list[Any] = [ChainBalances(rpc, src, confirmations=0) for rpc, src in chains]
    sources += [d.venue for d in parts.drivers.values()]
    try:
        return await Reconciler(store, sources).run_once()
    finally:
        for rpc, _ in chains:
            await rpc.close()


async def swap(
    cfg: Config,
    store: Store,
    signer: Signer,
    sell: str,
    amount: int,
    buy: str,
    *,
    max_hops: int = 4,
    max_replans: int = 0,
    recover_first: bool = False,
    recover_wait_s: float = 10.0,
    exclude: frozenset[str] = frozenset(),
) -> Run:
    """Reconcile (opens the ledger), run the swap (``amount`` None: recover only), reconcile again."""
    parts = await execution_parts(cfg, store, signers={"lab1": signer, "lab2": signer})
    try:
        resolved = []
        if recover_first:
            resolved = await recover(store, parts.evm, parts.drivers, parts.assets_by_address, parts.movers,
                                     transfer_wait_s=recover_wait_s)  # fmt: skip
        await reconcile(parts, store, cfg, signer.address)
        result = None
        if amount:
            route = RouteRequest(sell, amount, buy, max_hops=max_hops, exclude=exclude)
            request = SwapRequest(route, max_replans=max_replans)
            result = await Engine(parts.wiring).run(request, dry_run=False)
        return Run(result, await reconcile(parts, store, cfg, signer.address), resolved)
    finally:
        await parts.close()


def drift(passes: list[PassResult]) -> list[str]:
    """Every finding that is not 'the ledger agrees' (ok) or 'a first reading' (open)."""
    return [f"{p.venue} {f.asset} {f.action.value}: ledger {f.ledger}, venue {f.observed}"
            for p in passes for f in p.findings if f.action.value not in ("ok", "open")]  # fmt: skip
