"""``fillpath rebalance --policy FILE``: the moves that bring holdings inside a policy's bands (a dry run unless
``--execute``), as a table or ``--json``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.rebalance.plan import RebalancePlan
from fillpath.rebalance.run import RebalanceRun


def rebalance(
    ctx: typer.Context,
    policy: Annotated[Path, typer.Option("--policy", help="The policy file (TOML, docs/rebalancing.md).")],
    execute: Annotated[bool, typer.Option("--execute/--dry-run", help="Make the moves, or only plan them.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Bring holdings inside a policy's bands: the cheapest moves over every venue (dry run unless --execute)."""
    client = cli_context(ctx).client()
    pol = client.policy(policy)  # every problem of the file named at once, before any venue is read
    run = client.rebalance(pol, execute=execute)
    if as_json:
        emit_json(run.to_json())
    else:
        show_run(run)
    if run.status in ("failed", "partial", "halted", "limited"):
        raise typer.Exit(1)


def _d(x: Decimal | None, places: int = 6) -> str:
    if x is None:
        return "-"
    q = f"{x:,.{places}f}"
    return q.rstrip("0").rstrip(".") if "." in q else q


def show_positions(plan: RebalancePlan, title: str) -> None:
    t = Table(title=title)
    for col in ("asset", "held", "in flight", "target", "band", "status"):
        t.add_column(col, justify="left" if col in ("asset", "status") else "right")
    for p in plan.positions:
        band = "-" if p.low is None else f"{_d(p.low)} – {_d(p.high)}"
        t.add_row(p.asset, _d(p.held), _d(p.in_flight), _d(p.target), band, p.status)
    console().print(t)


def show_run(run: RebalanceRun) -> None:
    out = console()
    if run.plan is None:
        out.print(f"{run.mode} {run.run_id or ''} of {run.policy}: {run.status} — {run.reason}")
        return
    plan = run.plan
    show_positions(plan, f"{run.policy}: positions at {plan.taken_at}")
    results = {id(o.move): o for o in run.outcomes}
    t = Table(title="moves" + (" (dry run: nothing sent)" if run.mode == "dry_run" else ""))
    for col in ("from", "to", "amount", "expected out", "cost", "cost (bps)", "via", "status"):
        t.add_column(col, justify="right" if col in ("amount", "expected out", "cost", "cost (bps)") else "left")
    for m in plan.moves:
        done = results.get(id(m))
        status = m.status if done is None else f"{done.status}" + (f": {done.error}" if done.error else "")
        if m.reason:
            status += f" ({m.reason})"
        t.add_row(m.source, m.target, _d(m.amount), _d(m.expected_out), _d(m.cost, 2), _d(m.cost_bps, 2),
                  " → ".join(v.split(":")[0] + " " + v.split(":", 1)[1] for v in m.via) or "-", status)  # fmt: skip
    out.print(t)
    for s in plan.shortfalls:
        out.print(f"not covered: {s.asset} short by {_d(s.missing)} — {s.reason}")
    out.print(f"{run.mode} {run.run_id or ''}: {run.status} · {len(plan.planned)} move(s) worth {_d(plan.notional, 2)}"
              + (f" · {run.reason}" if run.reason else ""))  # fmt: skip
    if run.after is not None:
        show_positions(run.after, "positions after")
        out.print("inside every band" if run.after.in_band else "still outside a band (see above)")
