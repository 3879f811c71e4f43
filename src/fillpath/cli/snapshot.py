"""``fillpath snapshot take``: a consistent ``fillpath.snapshot/1`` of the configured venues."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.app import chain_sources
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json, err_console
from fillpath.collect.snapshot import take_snapshot

app = typer.Typer(help="Take and inspect market snapshots.", no_args_is_help=True)


async def _take(ctx: typer.Context) -> dict[str, Any]:
    sources = chain_sources(cli_context(ctx).config())
    try:
        return await take_snapshot(sources)
    finally:
        for rpc, _ in sources:
            await rpc.close()


@app.command("take")
def take(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot document on stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the snapshot to this file.")] = None,
) -> None:
    """Read every configured chain at one block each (the lab by default) into a snapshot."""
    t0 = time.perf_counter()
    snap = asyncio.run(_take(ctx))
    elapsed = time.perf_counter() - t0
    if out is not None:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps(snap, indent=2) + "\n")
        tmp.replace(out)
        err_console().print(f"wrote {out} ({len(snap['venues'])} venues, {elapsed * 1000:.0f} ms)")
    if as_json:
        emit_json(snap)
    elif out is None:
        summarize(snap, elapsed)


def summarize(snap: dict[str, Any], elapsed: float | None = None) -> None:
    c = console()
    t = Table(title=f"snapshot {snap['taken_at']}" + (f" (read in {elapsed * 1000:.0f} ms)" if elapsed else ""))
    for col in ("location", "kind", "block", "venues", "gas price (gwei)"):
        t.add_column(col)
    for loc in snap["locations"]:
        n = sum(1 for v in snap["venues"] if v.get("location") == loc["id"])
        gwei = f"{int(loc['gas_price_wei']) / 1e9:.3f}" if "gas_price_wei" in loc else "-"
        t.add_row(loc["id"], loc["kind"], str(loc.get("block", "-")), str(n), gwei)
    c.print(t)
    kinds: dict[str, int] = {}
    for v in snap["venues"]:
        kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
    c.print("venues: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    c.print("prices: " + ", ".join(f"{k}={v}" for k, v in snap["prices"].items() if not k.startswith(("USD", "DAI"))))
