"""``fillpath demo``: the README's main job on the embedded lab, start to finish.

1. A fresh lab: both chains from their seeded state and the exchange simulator (``lab down`` then ``lab up``);
   the lab's previous journal is kept beside the new one as ``fillpath.db.prev`` (it described chain state that
   no longer exists).
2. Inventory in two places: 1,500 WETH on lab1 and 500 ETH on the simulator, recorded as deposits.
3. ``swap 2000 WETH@lab1,ETH@labex USDC --execute``: the plan, expected vs realized per leg, the P&L.
4. A cross-location swap: ``swap 100000 USDC@lab1 WETH@lab2 --execute`` — part of the proceeds bridged to lab2
   through the lab's Across-style bridge (a deposit on lab1, the relayer's fill on lab2) and bought into WETH there:
   each leg expected vs realized, the time the funds were in flight, the transfer's fee in the P&L.
5. Unified balances before and after, and a reconciliation pass showing the ledger equals every venue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fillpath.app import execution_parts, open_store, sell_decimals, trading_signers
from fillpath.cli.context import cli_context
from fillpath.cli.output import console
from fillpath.cli.route import show_plan
from fillpath.cli.swap import prepare, show_execution
from fillpath.config import Config
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.result import ExecutionResult
from fillpath.lab import lab_config
from fillpath.lab.cli.lab import lab_for, print_status
from fillpath.model.amounts import to_base_units
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.errors import DamagedState, InvalidInput
from fillpath.router.request import RouteRequest
from fillpath.router.snapshot import Snapshot
from fillpath.state.identity import JournalHome, forget_marker
from fillpath.state.reconciler import PassResult

INVENTORY = {"WETH@lab1": "1500", "ETH@labex": "500"}
SELL, BUY, AMOUNT = "WETH@lab1,ETH@labex", "USDC", "2000"
CROSS_SELL, CROSS_BUY, CROSS_AMOUNT = "USDC@lab1", "WETH@lab2", "100000"
SHOWN = ("WETH@lab1", "ETH@lab1", "USDC@lab1", "ETH@labex", "USDT@labex", "USDC@labex", "WETH@lab2", "ETH@lab2")


def demo(
    ctx: typer.Context,
    keep_lab: Annotated[
        bool,
        typer.Option("--keep-lab", help="Trade on the running lab and journal as they are (no reset, no funding)."),
    ] = False,
) -> None:
    """Start the lab, hold inventory on a chain and on the exchange, execute a 2,000 ETH sale, explain it."""
    cfg = cli_context(ctx).config()
    if not cfg.lab:
        raise InvalidInput("--config", f"the demo runs on the embedded lab, not on {cfg.source}", "drop --config")
    started = time.perf_counter()
    lab = lab_for(ctx)
    out = console()
    if not keep_lab:
        lab.down()
        if cfg.database_url is None:
            _keep_previous_journal(cfg.data_dir)
    nodes = lab.up()
    print_status(lab, nodes, lab.exchange_statuses())
    if not keep_lab:  # a fresh journal opens its ledger from the funded balances
        lab.fund(INVENTORY)
    # the lab (re)started on new ports: read the configuration it wrote, as every other command would
    cfg = lab_config(cfg.data_dir, **({"database_url": cfg.database_url} if cfg.database_url else {}))
    result, cross, before, after, snap, passes = asyncio.run(_run(cfg))
    out.rule("plan")
    show_plan(result.plan, snap)
    out.rule("execution")
    show_execution(result)
    out.rule(f"a cross-location swap: {CROSS_AMOUNT} {CROSS_SELL} → {CROSS_BUY}")
    show_plan(cross.plan, snap)
    show_execution(cross)
    out.rule("balances")
    _balances(before, after, snap)
    drift = [f for p in passes for f in p.findings if f.action.value not in ("ok", "open")]
    out.print(
        "reconciliation after the trade: "
        + ("the ledger equals every venue" if not drift else f"{len(drift)} difference(s): {drift}")
    )
    out.print(f"demo finished in {time.perf_counter() - started:.1f} s · `fillpath report {result.execution_id}` · "
              f"`fillpath report {cross.execution_id}`")  # fmt: skip
    if result.status != "done" or cross.status != "done" or drift:
        raise typer.Exit(1)


def _keep_previous_journal(data_dir: Path) -> None:
    """The lab's journal becomes ``fillpath.db.prev`` (with its WAL, which may hold its last commits) and the data
    directory forgets its identity: the next open starts a new journal on purpose, not by accident."""
    db, home = data_dir / "fillpath.db", JournalHome.of(data_dir)
    for suffix in ("", "-wal", "-shm"):
        src = db.with_name(db.name + suffix)
        if src.exists():
            os.replace(src, db.with_name(f"fillpath.db.prev{suffix}"))
        else:
            db.with_name(f"fillpath.db.prev{suffix}").unlink(missing_ok=True)
    with contextlib.suppress(DamagedState):
        forget_marker(home, f"sqlite:///{db}")


async def _run(
    cfg: Config,
) -> tuple[ExecutionResult, ExecutionResult, dict[AssetId, Amount], dict[AssetId, Amount], Snapshot, list[PassResult]]:
    store = open_store(cfg, trading="fillpath demo")
    try:
        parts = await execution_parts(cfg, store, signers=trading_signers(cfg))
        try:
            await prepare(cfg, store, parts)
            before = dict(store.balances())
            engine = Engine(parts.wiring)
            snap_holder: list[Snapshot] = []
            take = parts.wiring.snapshot

            async def snapshot() -> Snapshot:
                snap_holder.append(await take())
                return snap_holder[-1]

            parts.wiring.snapshot = snapshot
            decimals = sell_decimals(cfg, SELL)
            route = RouteRequest(SELL, to_base_units(AMOUNT, decimals, field="AMOUNT"), BUY, max_hops=3)
            result = await engine.run(SwapRequest(route, sell_decimals=decimals), dry_run=False)
            decimals = sell_decimals(cfg, CROSS_SELL)
            route = RouteRequest(CROSS_SELL, to_base_units(CROSS_AMOUNT, decimals, field="AMOUNT"), CROSS_BUY)
            cross = await engine.run(SwapRequest(route, sell_decimals=decimals), dry_run=False)
            _, passes = await prepare(cfg, store, parts)
            return result, cross, before, dict(store.balances()), snap_holder[0], passes
        finally:
            await parts.close()
    finally:
        store.close()


def _balances(before: dict[AssetId, Amount], after: dict[AssetId, Amount], snap: Snapshot) -> None:
    dec = {a.id: a.decimals for a in snap.assets}
    prices = snap.prices or {}
    t = Table(title="the trader's ledger (equal to the venues after reconciliation)")
    for col in ("asset", "before", "after", "change", "value change (USD)"):
        t.add_column(col, justify="left" if col == "asset" else "right")
    total = Decimal(0)
    for name in SHOWN:
        a = AssetId.parse(name, field="asset")
        b, c = _human(before.get(a, 0), dec.get(a, 18)), _human(after.get(a, 0), dec.get(a, 18))
        value = (c - b) * prices.get(a, Decimal(0))
        total += value
        t.add_row(name, f"{b:,.6f}", f"{c:,.6f}", f"{c - b:+,.6f}", f"{value:+,.2f}")
    t.add_row("total", "", "", "", f"{total:+,.2f}")
    console().print(t)


def _human(amount: Amount, decimals: int) -> Decimal:
    return amount if isinstance(amount, Decimal) else Decimal(amount).scaleb(-decimals)
