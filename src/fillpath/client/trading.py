"""The trading and reconciling operations behind the client (and so behind ``fillpath swap`` and ``reconcile``)."""

from __future__ import annotations

import asyncio

from fillpath.app import (
    balance_sources,
    close_all,
    execution_parts,
    open_store,
    reconciler,
    settle_before_trading,
    trading_signers,
)
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.user_stream import UserStream
from fillpath.client.values import Reconciliation, Swap
from fillpath.config import Config
from fillpath.execution import failpoints
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.interrupt import Interrupt
from fillpath.execution.recovery import Resolution
from fillpath.state.reconcile_stream import StreamBalances

prepare = settle_before_trading
"""Kept under its old name for the commands and tests that use it."""


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
        loaded = await asyncio.gather(*(c.load_markets() for c in connectors), return_exceptions=True)  # at once
        if failed := [r for r in loaded if isinstance(r, BaseException)]:
            raise failed[0]
        streams = {c.location: StreamBalances(c.location) for c in connectors} if listen_s > 0 else {}
        for c in connectors if streams else ():
            stream = UserStream(c.exchange, location=c.location, dialect=c.dialect)
            watch = stream.watch_balances(stop, on_balances=streams[c.location].on_balances, on_gap=_no_gap)
            listening.append(asyncio.ensure_future(watch))
        if listening:
            await asyncio.sleep(listen_s)
        passes = await reconciler(cfg, store, sources, connectors, streams).run_once()
        return Reconciliation(tuple(passes), listen_s)
    finally:
        stop.set()
        for task in listening:
            await task
        store.close()
        await close_all(sources)


async def _no_gap() -> None:
    """A stream gap during the listen window: nothing to catch up (the pass reads REST anyway)."""
