"""``fillpath reconcile`` and ``fillpath balances``: what we hold, where, and whether every venue agrees."""

from __future__ import annotations

import asyncio
import getpass
import socket
from collections.abc import Collection
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.app import balance_sources, close_all, journal_exists, open_store, reconciler, resolve_venue
from fillpath.cex.connector import CcxtConnector
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.cli.reconcile_view import print_results
from fillpath.client.async_client import MAX_LISTEN_S
from fillpath.client.values import results_json
from fillpath.config import Config
from fillpath.model.errors import Halted, InvalidInput
from fillpath.model.validate import bounded_number
from fillpath.state.reconciler import Acceptance, PassResult

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _fmt(x: Decimal | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.6f}".rstrip("0").rstrip(".") if x % 1 else f"{x:,.0f}"


async def reconcile_locations(cfg: Config, locations: Collection[str]) -> list[PassResult]:
    """One pass over ``locations`` only, where a journal exists (none: the first pass will open the balances):
    what ``lab fund`` runs after moving money, so the journal books it as external flows with their evidence."""
    if not journal_exists(cfg):
        return []
    sources = [s for s in balance_sources(cfg) if s.location in locations]
    store = open_store(cfg)
    try:
        connectors = [s for s in sources if isinstance(s, CcxtConnector)]
        for c in connectors:
            await c.load_markets()
        return await reconciler(cfg, store, sources, connectors).run_once()
    finally:
        store.close()
        await close_all(sources)


def reconcile(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    listen: Annotated[
        float,
        typer.Option(
            "--listen",
            help="Seconds (0 to 300) to listen to each exchange's user stream before the pass; its balances are "
            "then compared with the REST read (0: do not listen).",
        ),
    ] = 1.0,
    accept: Annotated[
        str | None,
        typer.Option(
            "--accept",
            metavar="LOCATION",
            help="Take this location's figures as truth (with --reason): shows the adjustments; --execute books them "
            "with an audit event and lifts the halt reconciliation set.",
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the venue's figures are right (recorded).")
    ] = None,
    execute: Annotated[bool, typer.Option("--execute", help="With --accept: book the adjustments.")] = False,
    operator: Annotated[
        str | None, typer.Option("--operator", help="Who accepts (recorded); default: user@host.")
    ] = None,
) -> None:
    """One reconciliation pass over every venue: what each reports against the ledger.

    Balances everywhere; on exchanges also open orders, trades and the user stream's balances. Prints what it
    found and recorded. Exit 3 when a venue is halted after the pass."""
    if accept is None:
        for name, given in (("--reason", reason), ("--operator", operator)):
            if given is not None:
                raise InvalidInput(name, "goes with --accept", f"add --accept LOCATION, or leave {name} out")
        if execute:
            raise InvalidInput("--execute", "goes with --accept", "a pass books what it finds without it")
        listen = bounded_number(listen, "--listen", low=0, high=MAX_LISTEN_S, unit=" seconds")
        results = list(cli_context(ctx).client().reconcile(listen_s=listen).passes)
        if as_json:
            emit_json(results_json(results))
        else:
            print_results(console(), results, listen)
        if halted := _halted_after(ctx, results):
            raise typer.Exit(HALTED_EXIT) if as_json else _halted(halted)
        return
    if reason is None or not reason.strip() or len(reason) > MAX_REASON:
        raise InvalidInput("--reason", "is required with --accept" if reason is None else f"{len(reason)} characters",
                           f'say why the venue is right in 1 to {MAX_REASON} characters: --reason "..."')  # fmt: skip
    who = operator or f"{getpass.getuser()}@{socket.gethostname()}"
    done = asyncio.run(_accept(ctx, accept, who, reason.strip(), execute))
    if as_json:
        emit_json(_acceptance_json(done, execute))
        return
    t = Table(title=f"accept {done.venue}'s figures ({'booked' if execute else 'dry run: nothing recorded'})")
    for col in ("asset", "adjustment"):
        t.add_column(col)
    for a in done.adjustments:
        t.add_row(str(a.asset), f"{a.delta:+}")
    console().print(t)
    if not done.adjustments:
        console().print(f"the ledger already says what {done.venue} says: nothing to adjust")
    if done.halt_reason is not None and not done.lifts_halt:
        console().print(f"{done.venue} stays halted (an operator's halt: `fillpath resume {done.venue}` lifts it)")
    if not execute:
        console().print(f"dry run: add --execute to book these with an audit event by {who}")
        return
    lifted = "; its halt is lifted" if done.lifts_halt else ""
    console().print(f"accepted by {who} (audit event #{done.audit_seq}, `fillpath events --kind balances.accepted`)"
                    f"{lifted}")  # fmt: skip


HALTED_EXIT = 3
MAX_REASON = 500


def _halted_after(ctx: typer.Context, results: list[PassResult]) -> list[str]:
    """Venues halted after the pass (by it or before it): reconciliation's way of saying someone must look."""
    cfg = cli_context(ctx).config()
    if not journal_exists(cfg):
        return []
    with open_store(cfg) as store:
        return [r.venue for r in results if store.venue_flag(r.venue).halted]


def _halted(venues: list[str]) -> Halted:
    return Halted(
        f"halted: {', '.join(venues)} (`fillpath venues` says why; `fillpath reconcile --accept LOCATION "
        "--reason \"...\"` takes a venue's figures, `fillpath resume VENUE` lifts an operator's halt)"
    )


async def _accept(ctx: typer.Context, location: str, operator: str, reason: str, execute: bool) -> Acceptance:
    cfg = cli_context(ctx).config()
    name = resolve_venue(cfg, location, "--accept")
    sources = [s for s in balance_sources(cfg) if s.location == name]
    if not sources:
        raise InvalidInput("--accept", f"{name!r} has no balances to read", "name a chain location or an exchange")
    store = open_store(cfg)
    try:
        connectors = [s for s in sources if isinstance(s, CcxtConnector)]
        for c in connectors:
            await c.load_markets()
        return await reconciler(cfg, store, sources, connectors).accept(sources[0], operator, reason, execute=execute)
    finally:
        store.close()
        await close_all(sources)


def _acceptance_json(done: Acceptance, execute: bool) -> dict[str, Any]:
    return {
        "venue": done.venue, "dry_run": not execute, "audit_seq": done.audit_seq, "lifts_halt": done.lifts_halt,
        "adjustments": [{"asset": str(a.asset), "delta": str(a.delta)} for a in done.adjustments],
        "events": [e.kind for e in done.events],
    }  # fmt: skip


def balances(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Read every venue now instead of the last reading.")
    ] = False,
) -> None:
    """Unified balances: per asset@location and per symbol — ledger, venue-reported, in flight, drift, value."""
    svc = cli_context(ctx).service()
    if svc is not None:  # the service's own reading: the venues as its last passes saw them
        got = svc.balances()
        rows, totals, age_s = got["assets"], got["symbols"], float(got["venues_read_s_ago"] or 0)
        _show_balances(rows, totals, age_s, as_json, got.get("in_flight", []))
        return
    got = cli_context(ctx).client().balances(refresh=refresh).to_json()
    rows, totals, age_s = got["assets"], got["symbols"], float(got["venues_read_s_ago"])
    _show_balances(rows, totals, age_s, as_json, got["in_flight"])


def _show_balances(
    rows: list[dict[str, Any]],
    totals: dict[str, dict[str, str]],
    age_s: float,
    as_json: bool,
    transfers: list[dict[str, Any]],
) -> None:
    if as_json:
        emit_json({"venues_read_s_ago": round(age_s, 1), "assets": rows, "symbols": totals, "in_flight": transfers})
        return
    t = Table(title=f"balances (venues read {age_s:.0f}s ago; --refresh to read now)")
    for col in ("asset", "ledger", "venue", "in flight", "drift", "value"):
        t.add_column(col, justify="right" if col != "asset" else "left")
    for r in rows:
        t.add_row(
            r["asset"],
            *(
                _fmt(None if r[k] is None else Decimal(r[k]))
                for k in ("ledger", "venue", "in_flight", "drift", "value")
            ),
        )
    console().print(t)
    s = Table(title="per symbol")
    for col in ("symbol", "ledger", "venue", "value"):
        s.add_column(col, justify="right" if col != "symbol" else "left")
    for sym, tot in totals.items():
        s.add_row(sym, _fmt(Decimal(tot["ledger"])), _fmt(Decimal(tot["venue"])), _fmt(Decimal(tot["value"])))
    console().print(s)
    if transfers:
        f = Table(title="in flight between locations (taken by the source, not yet credited at the target)")
        for col in ("transfer", "kind", "from", "to", "amount", "expected", "state", "since", "expected arrival"):
            f.add_column(col, justify="right" if col in ("amount", "expected") else "left")
        for x in transfers:
            cells = ("transfer_id", "kind", "source", "target", "amount", "expected_out", "state", "since",
                     "expected_arrival")  # fmt: skip
            f.add_row(*(x[c] or "-" for c in cells))
        console().print(f)
