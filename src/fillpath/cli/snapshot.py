"""``fillpath snapshot take``: a consistent ``fillpath.snapshot/1`` of the configured venues."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json, err_console
from fillpath.client.files import read_snapshot_file
from fillpath.paths import check_output_path, write_output_file
from fillpath.router.snapshot import write_snapshot


def _run(coro: Any) -> Any:
    import asyncio  # only for commands that talk to venues

    return asyncio.run(coro)


app = typer.Typer(help="Take and inspect market snapshots.", no_args_is_help=True)


async def _take(ctx: typer.Context) -> dict[str, Any]:
    from fillpath.app import aggregator_parts, chain_sources, close_all, exchange_connectors, mover_specs
    from fillpath.collect.snapshot import take_snapshot

    cfg = cli_context(ctx).config()
    sources, exchanges, aggregators = chain_sources(cfg), exchange_connectors(cfg), aggregator_parts(cfg)
    try:
        return await take_snapshot(
            sources, exchanges=exchanges, movers=mover_specs(cfg), aggregators=aggregators.sources
        )
    finally:
        await close_all(rpc for rpc, _ in sources)
        await close_all(exchanges)
        await close_all(aggregators.clients)


@app.command("take")
def take(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot document on stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the snapshot to this file.")] = None,
) -> None:
    """Read every configured chain at one block each (the lab by default) into a snapshot."""
    if out is not None:
        check_output_path(out, "--out")  # before reading every venue: a bad path is refused at once
    t0 = time.perf_counter()
    snap = _run(_take(ctx))
    elapsed = time.perf_counter() - t0
    if out is not None:
        write_output_file(out, json.dumps(snap, indent=2) + "\n", "--out")
        err_console().print(f"wrote {out} ({len(snap['venues'])} venues, {elapsed * 1000:.0f} ms)")
    if as_json:
        emit_json(snap)
    elif out is None:
        summarize(snap, elapsed)


def summarize(snap: dict[str, Any], elapsed: float | None = None) -> None:
    c = console()
    from rich.table import Table

    t = Table(title=f"snapshot {snap['taken_at']}" + (f" (read in {elapsed * 1000:.0f} ms)" if elapsed else ""))
    for col in ("location", "kind", "block", "venues", "gas price (gwei)"):
        t.add_column(col)
    for loc in snap["locations"]:
        n = sum(1 for v in snap["venues"] if v.get("location") == loc["id"])
        gwei = str(Decimal(int(loc["gas_price_wei"])).scaleb(-9)) if loc.get("gas_price_wei") else "-"
        t.add_row(loc["id"], loc["kind"], str(loc.get("block", "-")), str(n), gwei)
    c.print(t)
    kinds: dict[str, int] = {}
    for v in snap["venues"]:
        kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
    c.print("venues: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    c.print("prices: " + ", ".join(f"{k}={v}" for k, v in snap["prices"].items() if not k.startswith(("USD", "DAI"))))


@app.command("show")
def show(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A fillpath.snapshot/1 file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the validated snapshot, normalized.")] = False,
) -> None:
    """Validate a snapshot file and summarize it: locations, venues by kind, prices, holdings."""
    snap, raw = read_snapshot_file(file)
    if as_json:
        emit_json(write_snapshot(snap))
        return
    summarize(raw)
    if raw.get("holdings"):
        console().print("holdings: " + ", ".join(f"{k}={v}" for k, v in raw["holdings"].items()))
