"""``fillpath reconcile`` and ``fillpath balances``: what we hold, where, and whether every venue agrees."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.cli.reconcile_view import print_results
from fillpath.client.async_client import MAX_LISTEN_S
from fillpath.client.values import results_json
from fillpath.model.validate import bounded_number

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _fmt(x: Decimal | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.6f}".rstrip("0").rstrip(".") if x % 1 else f"{x:,.0f}"


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
) -> None:
    """One reconciliation pass over every venue: what each reports against the ledger.

    Balances everywhere; on exchanges also open orders, trades and the user stream's balances. Prints what it
    found and recorded."""
    listen = bounded_number(listen, "--listen", low=0, high=MAX_LISTEN_S, unit=" seconds")
    results = cli_context(ctx).client().reconcile(listen_s=listen).passes
    if as_json:
        emit_json(results_json(results))
        return
    print_results(console(), results, listen)


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
