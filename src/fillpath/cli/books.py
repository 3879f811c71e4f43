"""``fillpath reconcile`` and ``fillpath balances``: what we hold, where, and whether every venue agrees."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.app import balance_sources, chain_sources, close_all, exchange_checks, exchange_connectors, open_store
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.user_stream import UserStream
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.cli.reconcile_view import print_results, results_json
from fillpath.collect.snapshot import take_snapshot
from fillpath.model.amounts import from_base_units
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.state.reconcile import zero_like
from fillpath.state.reconcile_stream import StreamBalances
from fillpath.state.reconciler import PassResult, Reconciler
from fillpath.state.records import IntentStatus, TransferRecord
from fillpath.state.transfers import IN_FLIGHT, MAYBE_TAKEN

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _human(amount: Amount | None, decimals: int | None) -> Decimal | None:
    if amount is None:
        return None
    if isinstance(amount, Decimal) or decimals is None:
        return Decimal(amount)
    return from_base_units(amount, decimals)


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
        return await Reconciler(store, sources, exchanges=exchange_checks(connectors, streams)).run_once()
    finally:
        stop.set()
        for task in listening:
            await task
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
            min=0.0,
            help="Seconds to listen to each exchange's user stream before the pass; its balances are then "
            "compared with the REST read (0: do not listen).",
        ),
    ] = 1.0,
) -> None:
    """One reconciliation pass over every venue: what each reports against the ledger.

    Balances everywhere; on exchanges also open orders, trades and the user stream's balances. Prints what it
    found and recorded."""
    results = asyncio.run(_reconcile(ctx, listen))
    if as_json:
        emit_json(results_json(results))
        return
    print_results(console(), results, listen)


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
    path = _cache_path(cfg.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return data


def balances(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Read every venue now instead of the last reading.")
    ] = False,
) -> None:
    """Unified balances: per asset@location and per symbol — ledger, venue-reported, in flight, drift, value."""
    cfg = cli_context(ctx).config()
    cache = _cache_path(cfg.data_dir)
    data = asyncio.run(_refresh(ctx)) if refresh or not cache.exists() else json.loads(cache.read_text())
    store = open_store(cfg)
    try:
        ledger = dict(store.balances())
        moving = [t for t in store.transfers().values() if t.state in IN_FLIGHT | MAYBE_TAKEN]
        flying: dict[AssetId, Amount] = {}
        for i in store.intents().values():  # an open order's input may be spent already
            if i.status is not IntentStatus.OPEN or i.asset_in is None or i.amount_in is None:
                continue
            if store.transfer(i.intent_id) is None:  # a transfer's funds are shown below, where they land
                flying[i.asset_in] = flying.get(i.asset_in, 0) - i.amount_in
        for tr in moving:  # taken by the source, on its way to the target: shown where it will land
            if tr.state in IN_FLIGHT and tr.target is not None and tr.expected_out is not None:
                flying[tr.target] = flying.get(tr.target, zero_like(tr.expected_out)) + tr.expected_out
    finally:
        store.close()
    rows = _rows(ledger, data["reports"], flying, data["decimals"], data["prices"])
    age_s = (time.time_ns() - int(data["read_at_ns"])) / 1e9
    totals = _totals(rows)
    transfers = [_transfer_row(x, data["decimals"]) for x in sorted(moving, key=lambda x: x.since_ns)]
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
            f.add_row(x["transfer_id"], x["kind"], x["source"], x["target"], x["amount"], x["expected_out"],
                      x["state"], x["since"], x["expected_arrival"] or "-")  # fmt: skip
        console().print(f)


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _transfer_row(t: TransferRecord, decimals: Mapping[str, int]) -> dict[str, Any]:
    def amount(asset: AssetId | None, value: Amount | None) -> str:
        human = _human(value, decimals.get(str(asset))) if asset is not None else None
        return "-" if human is None else _fmt(human)

    return {
        "transfer_id": t.transfer_id, "kind": str(t.transfer_kind), "route": t.route, "source": str(t.source),
        "target": str(t.target), "amount": amount(t.source, t.amount), "expected_out": amount(t.target, t.expected_out),
        "state": str(t.state), "since": _iso(t.since_ns), "expected_arrival": _iso(t.expected_arrival_ns),
        "ref": t.ref,
    }  # fmt: skip


def _rows(
    ledger: Mapping[AssetId, Amount],
    reports: Mapping[str, Mapping[str, str]],
    flying: Mapping[AssetId, Amount],
    decimals: Mapping[str, int],
    prices: Mapping[str, str],
) -> list[dict[str, Any]]:
    ids = sorted({str(a) for a in ledger} | set(reports), key=lambda s: (s.split("@")[1], s.split("@")[0]))
    rows = []
    for aid in ids:
        asset = AssetId.parse(aid)
        dec = decimals.get(aid)
        held = _human(ledger.get(asset), dec)
        seen = None
        if aid in reports:
            rep = reports[aid]
            seen = Decimal(rep["amount"]) if rep["unit"] == "human" else _human(int(rep["amount"]), dec)
        price = Fraction(Decimal(prices[aid])) if aid in prices else None
        basis = seen if seen is not None else held
        value = (
            None
            if price is None or basis is None
            else Decimal(basis) * Decimal(price.numerator) / Decimal(price.denominator)
        )
        rows.append(
            {
                "asset": aid,
                "ledger": None if held is None else str(held),
                "venue": None if seen is None else str(seen),
                "in_flight": None if asset not in flying else str(_human(flying[asset], dec)),
                "drift": None if held is None or seen is None else str(seen - held),
                "value": None if value is None else str(value.quantize(Decimal("0.01"))),
            }
        )
    return rows


def _totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        sym = r["asset"].split("@")[0]
        t = out.setdefault(sym, {"ledger": Decimal(0), "venue": Decimal(0), "value": Decimal(0)})
        for k in ("ledger", "venue", "value"):
            if r[k] is not None:
                t[k] += Decimal(r[k])
    return {s: {k: str(v) for k, v in t.items()} for s, t in sorted(out.items())}
