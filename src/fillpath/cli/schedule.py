"""``fillpath schedule list / next / history``: the rebalancing schedules and the runs the journal holds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.config import Config
from fillpath.rebalance.policy import Policy

app = typer.Typer(help="Rebalancing schedules: what runs when, and what ran.", no_args_is_help=True)

PolicyOpt = Annotated[
    list[Path] | None,
    typer.Option("--policy", help="A policy file (repeatable; default: the ones `fillpath run --policy` was given)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _policies(cfg: Config, given: list[Path] | None) -> list[Policy]:
    from fillpath.rebalance.registry import recorded, scheduled_policies

    return scheduled_policies(cfg, list(given) if given else recorded(cfg))


def _rows(cfg: Config, policies: list[Policy], count: int) -> list[dict[str, object]]:
    from fillpath.app import journal_exists, open_store
    from fillpath.rebalance.schedule import describe, run_id, slot_after, slot_text
    from fillpath.state.rebalance_runs import RebalanceRuns

    store = open_store(cfg) if journal_exists(cfg) else None
    try:
        rows: list[dict[str, object]] = []
        now = time.time_ns()
        for p in policies:
            assert p.schedule is not None
            slots, at = [], now
            for _ in range(count):
                at = slot_after(p.schedule, at)
                slots.append(at)
            last = RebalanceRuns(store).history(p.name, limit=1) if store is not None else []
            rows.append({"policy": p.name, "file": p.source, "schedule": describe(p.schedule),
                         "missed": p.schedule.missed, "next": [slot_text(s) for s in slots],
                         "next_run_ids": [run_id(p.name, s) for s in slots],
                         "last_run": last[0].to_json() if last else None})  # fmt: skip
        return rows
    finally:
        if store is not None:
            store.close()


@app.command("list")
def list_cmd(ctx: typer.Context, policy: PolicyOpt = None, as_json: JsonOpt = False) -> None:
    """Every scheduled policy: its schedule, missed-slot rule, next slot and last run."""
    cfg = cli_context(ctx).config()
    rows = _rows(cfg, _policies(cfg, policy), 1)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console().print("no schedule: start the service with `fillpath run --policy FILE`")
        return
    t = Table(title="schedules")
    for col in ("policy", "schedule", "missed slots", "next", "last run"):
        t.add_column(col)
    for r in rows:
        last = r["last_run"]
        shown = "-" if not isinstance(last, dict) else f"{last['run_id']} {last['status']}"
        t.add_row(str(r["policy"]), str(r["schedule"]), str(r["missed"]), str(r["next"][0]), shown)  # type: ignore[index]
    console().print(t)


@app.command("next")
def next_cmd(
    ctx: typer.Context,
    policy: PolicyOpt = None,
    count: Annotated[int, typer.Option("--count", min=1, max=1000, help="How many slots ahead.")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """The next slots of each scheduled policy, with the run id each will have."""
    cfg = cli_context(ctx).config()
    rows = _rows(cfg, _policies(cfg, policy), count)
    if as_json:
        emit_json([{"policy": r["policy"], "next": r["next"], "run_ids": r["next_run_ids"]} for r in rows])
        return
    for r in rows:
        console().print(f"{r['policy']}: " + ", ".join(r["next"]))  # type: ignore[arg-type]


@app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="Only this policy's runs.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Rebalancing runs from the journal, newest first: run id (policy@slot), mode, status, notional, reason."""
    from fillpath.app import journal_exists, open_store
    from fillpath.state.rebalance_runs import RebalanceRuns

    cfg = cli_context(ctx).config()
    if not journal_exists(cfg):
        records = []
    else:
        store = open_store(cfg)
        try:
            records = RebalanceRuns(store).history(name, limit=limit)
        finally:
            store.close()
    if as_json:
        emit_json([r.to_json() for r in records])
        return
    t = Table(title="rebalancing runs (newest first)")
    for col in ("run", "mode", "status", "started", "moves", "notional", "reason"):
        t.add_column(col)
    for r in records:
        j = r.to_json()
        t.add_row(r.run_id, r.mode, r.status, str(j["started"]), str(r.moves), str(j["notional"] or "-"),
                  r.reason or "")  # fmt: skip
    console().print(t)
