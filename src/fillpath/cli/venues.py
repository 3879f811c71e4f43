"""``fillpath venues``: every venue's health as the journal records it — state, score, reason, since when.

Reads only the store (no network): the state, reason and time come from the ``venue_flags`` projection; the
score is the health book's penalty recomputed from the journal's recent entries (:mod:`execution.health_feed`),
so it shows what the journal shows, not what a running engine heard but did not journal (rate limits, stream
disagreements).
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from fillpath.app import configured_venues, open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.service.views import venue_rows

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def venues(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every venue's health: state (ok / degraded / halted), score (100 = clean), reason and since when."""
    svc = cli_context(ctx).service()
    if svc is not None:
        rows = svc.venues()
    else:
        cfg = cli_context(ctx).config()
        with open_store(cfg) as store:
            rows = venue_rows(store, configured_venues(cfg), time.time_ns())
    if as_json:
        emit_json(rows)
        return
    t = Table(title="venues")
    for col in ("venue", "state", "score", "router", "since", "reason"):
        t.add_column(col)
    colour = {"ok": "green", "degraded": "yellow", "halted": "red"}
    for r in rows:
        state = f"[{colour[r['state']]}]{r['state']}[/]" + (" (held)" if r["held"] else "")
        router = "excluded" if r["state"] == "halted" else f"-{r['penalty_bps']} bps" if r["penalty_bps"] else "-"
        since = f"{r['since']} (#{r['since_seq']})" if r["since"] else "-"
        t.add_row(r["venue"], state, f"{r['score']:.1f}", router, since, r["reason"] or "")
    console().print(t)
