"""``fillpath report EXECUTION_ID`` / ``--last N``: executions as the journal recorded them.

Everything comes from ``execution.started`` / ``execution.finished`` (the plan, the arrival mids, each leg, the
P&L decomposition) and from the intents' resolutions; no venue is asked. An execution that started and has no
``finished`` record was interrupted: its legs are whatever recovery resolved (``fillpath recover``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from fillpath.app import open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.model.errors import InvalidInput
from fillpath.service.views import ExecutionRecord as Recorded
from fillpath.service.views import executions


def report(
    ctx: typer.Context,
    execution_id: Annotated[str | None, typer.Argument(help="The execution to show.")] = None,
    last: Annotated[int | None, typer.Option("--last", help="Show the last N executions as a table.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What an execution planned, what it realized, and its P&L decomposition — from the journal."""
    if (execution_id is None) == (last is None):
        raise InvalidInput("EXECUTION_ID", "give an execution id or --last N (one of them)", "e.g. --last 5")
    store = open_store(cli_context(ctx).config())
    try:
        found = executions(store)
    finally:
        store.close()
    if last is not None:
        if last <= 0:
            raise InvalidInput("--last", f"{last} is not positive", "e.g. --last 5")
        rows = sorted(found.values(), key=lambda x: x.started_seq)[-last:]
        if as_json:
            emit_json([r.to_json() for r in rows])
            return
        _table(rows)
        return
    assert execution_id is not None
    x = found.get(execution_id)
    if x is None:
        raise InvalidInput("EXECUTION_ID", f"{execution_id} is not in the journal", "see `fillpath report --last 10`")
    if as_json:
        emit_json(x.to_json())
        return
    _detail(x)


def _bps(value: str | None, arrival: str | None) -> str:
    if value is None or not arrival or int(arrival) == 0:
        return "-"
    return f"{Decimal(int(value) * 10_000) / int(arrival):.2f}"


def _table(rows: list[Recorded]) -> None:
    t = Table(title="executions")
    for col in ("execution", "mode", "status", "sell", "buy", "legs", "expected out", "realized out", "shortfall bps"):
        t.add_column(col)
    for r in rows:
        j = r.to_json()
        pnl = j["pnl"] or {}
        t.add_row(
            r.execution_id, r.mode, j["status"], f"{r.amount_in} {r.sell}", r.buy, str(len(j["legs"])),
            j["expected_out"] or "-", j["realized_out"] or "-", _bps(pnl.get("shortfall"), pnl.get("arrival")),
        )  # fmt: skip
    console().print(t)


def _detail(x: Recorded) -> None:
    j = x.to_json()
    out = console()
    t = Table(title=f"{x.execution_id} ({j['status']}): {x.amount_in} {x.sell} → {x.buy}")
    for col in ("venue", "status", "in", "expected out", "realized out"):
        t.add_column(col)
    for leg in j["legs"]:
        t.add_row(
            leg["venue"], leg["status"], f"{leg['amount_in']} {leg['asset_in']}",
            f"{leg['expected_out']} {leg['asset_out']}", leg["realized_out"] or "-",
        )  # fmt: skip
    out.print(t)
    pnl = j["pnl"]
    if pnl:
        p = Table(title="P&L decomposition (base units of the buy asset)")
        for col in ("component", "amount", "bps of arrival"):
            p.add_column(col)
        for k in ("arrival", "price_impact", "fees", "gas", "slippage", "latency", "drift", "failed", "shortfall"):
            p.add_row(k, pnl[k], "" if k == "arrival" else _bps(pnl[k], pnl["arrival"]))
        out.print(p)
    if j["status"] == "interrupted":
        out.print("interrupted: no finished record; intents as resolved: " + json.dumps(x.intents))
