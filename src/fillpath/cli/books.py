"""``fillpath reconcile`` and ``fillpath balances``: what we hold, where, and whether every venue agrees."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.app import balance_sources, chain_sources, close_all, exchange_connectors, open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.collect.snapshot import take_snapshot
from fillpath.model.amounts import from_base_units
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.state.reconciler import PassResult, Reconciler
from fillpath.state.records import IntentStatus

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


async def _reconcile(ctx: typer.Context) -> list[PassResult]:
    cfg = cli_context(ctx).config()
    sources = balance_sources(cfg)
    store = open_store(cfg)
    try:
        return await Reconciler(store, sources).run_once()
    finally:
        store.close()
        await close_all(sources)


def reconcile(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Run one reconciliation pass over every venue and print what it found and booked."""
    results = asyncio.run(_reconcile(ctx))
    if as_json:
        emit_json(
            [
                {
                    "venue": r.venue,
                    "findings": [
                        {"asset": str(f.asset), "ledger": None if f.ledger is None else str(f.ledger),
                         "venue": str(f.observed), "drift": str(f.drift), "action": f.action.value}
                        for f in r.findings
                    ],
                    "events": [e.kind for e in r.events],
                }
                for r in results
            ]
        )  # fmt: skip
        return
    t = Table(title="reconciliation")
    for col in ("venue", "asset", "ledger", "venue says", "drift", "action"):
        t.add_column(col)
    for r in results:
        for f in r.findings:
            t.add_row(r.venue, str(f.asset), str(f.ledger), str(f.observed), str(f.drift), f.action.value)
    console().print(t)
    booked = sum(len(r.events) for r in results)
    console().print(
        f"{booked} event(s) recorded" if booked else "nothing to record: the ledger agrees with every venue"
    )


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
        flying: dict[AssetId, Amount] = {}
        for i in store.intents().values():
            if i.status is IntentStatus.OPEN and i.asset_in is not None and i.amount_in is not None:
                flying[i.asset_in] = flying.get(i.asset_in, 0) - i.amount_in
    finally:
        store.close()
    rows = _rows(ledger, data["reports"], flying, data["decimals"], data["prices"])
    age_s = (time.time_ns() - int(data["read_at_ns"])) / 1e9
    totals = _totals(rows)
    if as_json:
        emit_json({"venues_read_s_ago": round(age_s, 1), "assets": rows, "symbols": totals})
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
