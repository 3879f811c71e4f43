"""The trading and reconciling operations behind the client (and so behind ``fillpath swap`` and ``reconcile``)."""

from __future__ import annotations

import asyncio
from typing import Any

from fillpath.app import (
    ExecutionParts,
    balance_confirmations,
    balance_sources,
    close_all,
    exchange_checks,
    execution_parts,
    open_store,
    trading_signers,
)
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.user_stream import UserStream
from fillpath.chains.balances import ChainBalances
from fillpath.client.values import Reconciliation, Swap
from fillpath.config import Config
from fillpath.execution import failpoints
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.interrupt import Interrupt
from fillpath.execution.recovery import Resolution, recover
from fillpath.state.reconcile_stream import StreamBalances
from fillpath.state.reconciler import PassResult, Reconciler
from fillpath.state.store import Store


async def prepare(cfg: Config, store: Store, parts: ExecutionParts) -> tuple[list[Resolution], list[PassResult]]:
    """The cold path before a trade: resolve what a crash left open, then bring the ledger level with the venues."""
    resolved = await recover(store, parts.evm, parts.drivers, parts.assets_by_address, parts.movers)
    sources: list[Any] = [
        ChainBalances(v.rpc, parts.sources[loc], confirmations=balance_confirmations(cfg, loc))
        for loc, v in parts.evm.items()
    ]
    connectors = [c for c in parts.exchanges if c.location in parts.drivers]
    sources += connectors
    passes = await Reconciler(store, sources, exchanges=exchange_checks(connectors)).run_once()
    return resolved, passes


async def run_swap(cfg: Config, request: SwapRequest, *, dry_run: bool, interrupt: Interrupt | None = None) -> Swap:
    """One swap through the engine. A dry run loads no key and no exchange credential."""
    signers = None if dry_run else trading_signers(cfg)  # a refusal (no lab, no key) before the journal is touched
    store = open_store(cfg, trading=None if dry_run else "fillpath swap --execute")
    try:
        parts = await execution_parts(cfg, store, signers=signers, crash=failpoints.from_env())
        try:
            if interrupt is not None:
                parts.wiring.interrupt = interrupt
            resolved: list[Resolution] = []
            if not dry_run:
                resolved, _ = await prepare(cfg, store, parts)
            result = await Engine(parts.wiring).run(request, dry_run=dry_run)
            return Swap(result, tuple(resolved))
        finally:
            await parts.close()
    finally:
        store.close()


async def reconcile_once(cfg: Config, listen_s: float) -> Reconciliation:
    """One pass over every venue; with ``listen_s`` each exchange's user stream is heard first."""
    sources = balance_sources(cfg, pro=listen_s > 0)
    store = open_store(cfg)
    stop = asyncio.Event()
    listening: list[asyncio.Future[None]] = []
    try:
        connectors = [s for s in sources if isinstance(s, CcxtConnector)]
        for c in connectors:
            await c.load_markets()
        streams = {c.location: StreamBalances(c.location) for c in connectors} if listen_s > 0 else {}
        for c in connectors if streams else ():
            stream = UserStream(c.exchange, location=c.location, dialect=c.dialect)
            watch = stream.watch_balances(stop, on_balances=streams[c.location].on_balances, on_gap=_no_gap)
            listening.append(asyncio.ensure_future(watch))
        if listening:
            await asyncio.sleep(listen_s)
        passes = await Reconciler(store, sources, exchanges=exchange_checks(connectors, streams)).run_once()
        return Reconciliation(tuple(passes), listen_s)
    finally:
        stop.set()
        for task in listening:
            await task
        store.close()
        await close_all(sources)


async def _no_gap() -> None:
    """A stream gap during the listen window: nothing to catch up (the pass reads REST anyway)."""
