"""``fillpath swap`` and ``fillpath recover``: the trading commands.

``swap --execute``: recover open intents → one reconciliation pass (the ledger the guards read) → the engine.
``swap --dry-run`` (the default): plans and simulates; no key and no exchange credential is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fillpath.app import execution_parts, journal_exists, open_store, trading_signers
from fillpath.cli.context import cli_context
from fillpath.cli.main import EXIT_FAILED, EXIT_HALTED, EXIT_OK, EXIT_REFUSED
from fillpath.cli.output import console, emit_json, err_console
from fillpath.client.trading import prepare
from fillpath.client.values import Swap
from fillpath.config import Config
from fillpath.execution.interrupt import INTERRUPTED, Interrupt
from fillpath.execution.recovery import Resolution, recover
from fillpath.execution.result import ExecutionResult, LegStatus
from fillpath.model.amounts import from_base_units as human
from fillpath.state.records import IntentStatus


async def _swap(cfg: Config, amount: str, sell: str, buy: str, *, execute: bool, max_hops: int,
                slippage_bps: int) -> Swap:  # fmt: skip
    from fillpath.client import AsyncClient

    with _interrupts() as interrupt:
        return await AsyncClient(cfg).swap_detailed(amount, sell, buy, execute=execute, max_hops=max_hops,
                                                    slippage_bps=slippage_bps, interrupt=interrupt)  # fmt: skip


@contextlib.contextmanager
def _interrupts() -> Iterator[Interrupt]:
    """Ctrl-C and SIGTERM during a swap stop it at a step boundary (``execution/interrupt.py``): the first sends
    nothing new and waits for what is out, the second stops waiting."""
    interrupt = Interrupt()
    loop = asyncio.get_running_loop()
    err = err_console()

    def on_signal(name: str) -> None:
        first = not interrupt.stopped
        interrupt.signal(name)
        if first:
            err.print(f"{name}: sending nothing new; waiting for what is already sent (again to stop waiting)")
        else:
            err.print(f"{name} again: not waiting; what is in flight stays open for `fillpath recover`")

    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig.name)
    try:
        yield interrupt
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def swap(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="How much SELL, in its human units (e.g. 2000).")],
    sell: Annotated[str, typer.Argument(help="SYMBOL@LOCATION, a bare symbol, or a comma list (WETH@lab1,ETH@labex).")],
    buy: Annotated[str, typer.Argument(help="SYMBOL@LOCATION, or a bare symbol: any location.")],
    execute: Annotated[bool, typer.Option("--execute/--dry-run", help="Trade, or only plan and simulate.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the execution as JSON.")] = False,
    slippage_bps: Annotated[int, typer.Option("--slippage-bps")] = 50,
    max_hops: Annotated[int, typer.Option("--max-hops")] = 4,
) -> None:
    """Route and execute a swap across every venue (dry run unless --execute)."""
    svc = cli_context(ctx).service()
    if svc is not None:  # the service trades: one process owns the nonces and the orders
        got = svc.swap(amount, sell, buy, execute=execute, slippage_bps=slippage_bps, max_hops=max_hops)
        if as_json:
            emit_json(got)
        else:
            console().print(f"{got['mode']} {got['execution_id']} ({got['status']}): expected {got['expected_out']}, "
                            f"realized {got['realized_out']} — `fillpath report {got['execution_id']}`")  # fmt: skip
        if got["status"] in ("failed", "unknown"):
            raise typer.Exit(1)
        return
    cfg = cli_context(ctx).config()
    outcome = asyncio.run(_swap(cfg, amount, sell, buy, execute=execute, max_hops=max_hops, slippage_bps=slippage_bps))
    result, resolved = outcome.result, outcome.recovered
    if as_json:
        emit_json(result.to_json())
    else:
        for r in resolved:
            console().print(f"recovered {r.intent_id} ({r.venue}): {r.outcome} — {r.detail}")
        show_execution(result)
    if result.status == INTERRUPTED:
        _interrupted(result, cli_context(ctx).config_path)
        raise typer.Exit(130)
    if code := swap_exit_code(result):
        raise typer.Exit(code)


HALT_GUARDS = ("guard kill_switch", "guard venue_halted")


def swap_exit_code(result: ExecutionResult) -> int:
    """The exit-code table (``cli/main.py``) for a swap: a dry run whose checks refused a leg is 2 (nothing was
    sent; fix and ask again); an execution every leg of which a closed gate refused is 3; one that failed or is
    unknown is 1."""
    failed = [leg for leg in result.legs if leg.status is LegStatus.FAILED]
    if result.mode == "dry_run":
        return EXIT_REFUSED if failed else EXIT_OK
    if (
        result.status == "failed"
        and failed
        and all(any(g in (leg.reason or "") for g in HALT_GUARDS) for leg in failed)
    ):
        return EXIT_HALTED
    return EXIT_FAILED if result.status in ("failed", "unknown") else EXIT_OK


def _interrupted(result: ExecutionResult, config_path: Path | None) -> None:
    """What an interrupt left: what ran, what is open (to ``recover``), what was never sent."""
    err = err_console()
    by = {status: [leg for leg in result.legs if leg.status is status] for status in LegStatus}
    err.print(f"interrupted: {len(by[LegStatus.DONE]) + len(by[LegStatus.PARTIAL])} leg(s) ran, "
              f"{len(by[LegStatus.UNKNOWN])} open, {len(by[LegStatus.FAILED])} not sent or failed")  # fmt: skip
    for leg in by[LegStatus.UNKNOWN]:
        err.print(f"  open: {leg.venue} ({leg.amount_in} {leg.asset_in}) — {leg.reason or 'outcome unknown'}")
    if by[LegStatus.UNKNOWN]:
        flag = f" --config {config_path}" if config_path else ""
        err.print(f"resolve the open legs from the venues: fillpath{flag} recover")
    err.print(f"the journal has every leg: fillpath report {result.execution_id}")


def show_execution(result: ExecutionResult) -> None:
    out = console()
    dec = result.buy_decimals
    dry = result.mode == "dry_run"
    t = Table(title=f"{result.mode} {result.execution_id}: {result.plan.sell} → {result.plan.buy} ({result.status})")
    for col in ("venue", "status", "in", "expected out", "simulated out" if dry else "realized out", "diff (bps)"):
        t.add_column(col, justify="left" if col in ("venue", "status") else "right")
    for leg in result.legs:
        diff = "-"
        if leg.realized_out is not None and leg.expected_out:
            diff = f"{Decimal((leg.realized_out - leg.expected_out) * 10_000) / leg.expected_out:+.2f}"
        t.add_row(
            leg.venue if leg.attempt == 0 else f"{leg.venue} (re-plan {leg.attempt})",
            str(leg.status),
            f"{leg.amount_in} {leg.asset_in}",
            f"{leg.expected_out} {leg.asset_out}",
            "-" if leg.realized_out is None else str(leg.realized_out),
            diff,
        )
    out.print(t)
    for leg in result.legs:
        if leg.in_flight_ms is not None:
            out.print(f"in flight: {leg.venue} — {leg.in_flight_ms / 1000:.1f} s from the source taking the funds to "
                      f"their landing ({leg.asset_in} → {leg.asset_out})")  # fmt: skip
    if dry:
        simulated = result.simulated_out()
        out.print(
            f"expected {human(result.expected_out, dec):,} · simulated {human(simulated, dec):,} · realized 0"
            f" (base units of the buy asset: {result.expected_out} / {simulated} / 0)"
            " · a dry run: nothing was sent, nothing realized; the table shows each leg's simulation"
        )
        if refused := [leg for leg in result.legs if leg.status is LegStatus.FAILED]:
            out.print(f"{len(refused)} leg(s) refused by the dry run's checks: " + "; ".join(
                f"{leg.venue}: {leg.reason}" for leg in refused))  # fmt: skip
    else:
        out.print(
            f"expected {human(result.expected_out, dec):,} · realized {human(result.realized_out, dec):,}"
            f" (base units of the buy asset: {result.expected_out} / {result.realized_out})"
        )
    d = result.decomposition
    if d is not None:
        p = Table(title="P&L against the arrival mid (buy asset)")
        for col in ("component", "amount", "bps of arrival"):
            p.add_column(col, justify="left" if col == "component" else "right")
        p.add_row("arrival value", f"{human(d.arrival, dec):,}", "")
        for name, value in d.components.items():
            p.add_row(name, f"{human(value, dec):,}", f"{float(d.bps(value)):.2f}")
        p.add_row("shortfall", f"{human(d.shortfall, dec):,}", f"{float(d.bps(d.shortfall)):.2f}")
        out.print(p)
    steps = " · ".join(f"{k} {v:.1f} ms" for k, v in result.timings_ms.items())
    out.print(f"timings: {steps}")


def _anything_open(cfg: Config) -> bool:
    """Whether the journal holds an intent still open (ours, or another process's): what ``recover`` resolves."""
    if not journal_exists(cfg):
        return False
    store = open_store(cfg)
    try:
        return any(i.status is IntentStatus.OPEN for i in store.intents().values())
    finally:
        store.close()


async def _recover(cfg: Config) -> list[Resolution]:
    if cfg.locations and not _anything_open(cfg):
        return []  # nothing to resolve: no key is unlocked and no venue is asked
    signers = trading_signers(cfg)  # a refusal (no lab, no key) before the journal is touched
    store = open_store(cfg, trading="fillpath recover")
    try:
        parts = await execution_parts(cfg, store, signers=signers)
        try:
            return await recover(store, parts.evm, parts.drivers, parts.assets_by_address, parts.movers)
        finally:
            await parts.close()
    finally:
        store.close()


def recover_cmd(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Resolve every unresolved intent by asking its venue (order by client id, transaction by hash and nonce)."""
    resolved = asyncio.run(_recover(cli_context(ctx).config()))
    if as_json:
        emit_json([_res_json(r) for r in resolved])
        return
    if not resolved:
        console().print("nothing to recover: every intent is resolved")
    for r in resolved:
        console().print(f"{r.intent_id} ({r.venue}, {r.action}): {r.outcome} — {r.detail}")
    if any(r.outcome == "unknown" for r in resolved):
        raise typer.Exit(1)


def _res_json(r: Resolution) -> dict[str, str]:
    return {"intent_id": r.intent_id, "venue": r.venue, "action": r.action, "outcome": r.outcome, "detail": r.detail}


__all__ = ["prepare", "recover_cmd", "show_execution", "swap"]
