"""``fillpath reconcile`` and ``fillpath balances``: what we hold, where, and whether every venue agrees."""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
import time
from collections.abc import Collection
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.app import (
    balance_sources,
    chain_sources,
    close_all,
    exchange_connectors,
    journal_exists,
    open_store,
    reconciler,
    resolve_venue,
)
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.user_stream import UserStream
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.cli.reconcile_view import print_results, results_json
from fillpath.collect.snapshot import take_snapshot
from fillpath.config import Config
from fillpath.model.assets import AssetId
from fillpath.model.errors import DamagedState, Halted, InvalidInput
from fillpath.model.validate import bounded_number, parse_json
from fillpath.paths import ensure_private_dir, read_input_text, write_private_file
from fillpath.service.views import balance_rows, in_flight, symbol_totals, transfers_in_flight
from fillpath.state.reconcile_stream import StreamBalances
from fillpath.state.reconciler import Acceptance, PassResult

WIDE_DIGITS = 200
"""Decimal digits for balance arithmetic: a uint256 has 78, a price a few dozen (the default context has 28)."""
MAX_LISTEN_S = 300
"""A reconciliation pass listens for minutes at most: a longer wait is a service (``fillpath run``), not a pass."""

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _fmt(x: Decimal | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.6f}".rstrip("0").rstrip(".") if x % 1 else f"{x:,.0f}"


async def _reconcile(ctx: typer.Context, listen_s: float) -> list[PassResult]:
    cfg = cli_context(ctx).config()
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
        return await reconciler(cfg, store, sources, connectors, streams).run_once()
    finally:
        stop.set()
        for task in listening:
            await task
        store.close()
        await close_all(sources)


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


async def _no_gap() -> None:
    """A stream gap during the listen window: nothing to catch up (the pass reads REST anyway)."""


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
        results = asyncio.run(_reconcile(ctx, listen))
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


def _cache_path(data_dir: Path) -> Path:
    return data_dir / "venue-balances.json"


async def _refresh(ctx: typer.Context) -> dict[str, Any]:
    cfg = cli_context(ctx).config()
    sources = balance_sources(cfg)
    snaps = chain_sources(cfg)
    exchanges = exchange_connectors(cfg)
    try:
        reports = [r for s in sources for r in await s.balances()]
        snap = await take_snapshot(snaps, exchanges=exchanges)
    finally:
        await close_all(sources)
        await close_all(rpc for rpc, _ in snaps)
        await close_all(exchanges)
    data = {
        "read_at_ns": time.time_ns(),
        # chain balances are int base units, exchange balances human Decimals: the cache says which is which
        "reports": {
            str(r.asset): {"amount": str(r.amount), "unit": "human" if isinstance(r.amount, Decimal) else "base"}
            for r in reports
        },
        "decimals": {a["id"]: a["decimals"] for a in snap["assets"]},
        "prices": snap["prices"],
    }
    ensure_private_dir(cfg.data_dir)
    write_private_file(_cache_path(cfg.data_dir), json.dumps(data, indent=2), "venue balances")
    return data


def _read_cache(path: Path) -> dict[str, Any]:
    """The last reading, checked: a damaged cache is named with its fix, never a traceback mid-table."""
    fix = "read every venue again with `fillpath balances --refresh`"
    data = parse_json(read_input_text(path, str(path), fix=fix), str(path), fix=fix)
    try:
        int(data["read_at_ns"])
        for aid, rep in data["reports"].items():
            AssetId.parse(aid)
            amount = Decimal(rep["amount"])
            if rep["unit"] not in ("human", "base") or not amount.is_finite():
                raise ValueError(aid)
        for aid, dec in data["decimals"].items():
            AssetId.parse(aid)
            if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 77:
                raise ValueError(aid)
        for aid, price in data["prices"].items():
            if not Decimal(price).is_finite():
                raise ValueError(aid)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, InvalidInput):
        raise DamagedState(str(path), "the cached venue balances are damaged", fix) from None
    return dict(data)


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
    cfg = cli_context(ctx).config()
    cache = _cache_path(cfg.data_dir)
    data = asyncio.run(_refresh(ctx)) if refresh or not cache.exists() else _read_cache(cache)
    store = open_store(cfg)
    try:
        ledger = dict(store.balances())
        flying = in_flight(store)
        moving = transfers_in_flight(store, data["decimals"])
    finally:
        store.close()
    with localcontext(Context(prec=WIDE_DIGITS)):  # uint256 amounts times prices: never rounded, never refused
        rows = balance_rows(ledger, data["reports"], flying, data["decimals"], data["prices"])
        totals = symbol_totals(rows)
    age_s = (time.time_ns() - int(data["read_at_ns"])) / 1e9
    _show_balances(rows, totals, age_s, as_json, moving)


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
