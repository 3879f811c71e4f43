"""``fillpath venues``: every venue's health as the journal records it — state, score, reason, since when.

Reads only the store (no network): the state, reason and time come from the ``venue_flags`` projection; the
score is the health book's penalty recomputed from the journal's recent entries (:mod:`execution.health_feed`),
so it shows what the journal shows, not what a running engine heard but did not journal (rate limits, stream
disagreements).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.app import configured_venues, open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.execution.health import HealthBook, HealthPolicy, is_held, state_of
from fillpath.execution.health_feed import JournalFeed
from fillpath.state.store import Store

HALF_LIVES = 10
"""How far back the score reads: older entries weigh under 0.1% of their points."""


def _first_seq_at(store: Store, ns: int) -> int:
    """The seq after which entries were received at ``ns`` or later (receive times rise with seq, give or take
    a writer's clock between processes: a few seconds at the edge of a window of an hour do not matter)."""
    lo, hi = 0, store.last_seq
    while lo < hi:
        mid = (lo + hi) // 2
        rec = next(store.events(mid, limit=1), None)
        if rec is None or rec.recv_ns >= ns:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def venue_rows(store: Store, configured: list[str], now_ns: int, policy: HealthPolicy | None = None) -> list[Any]:
    """One JSON-ready row per venue: the configured ones, then any other the journal has flagged."""
    policy = policy or HealthPolicy()
    book, feed = HealthBook(policy), JournalFeed()
    for rec in store.events(_first_seq_at(store, now_ns - HALF_LIVES * policy.half_life_ns)):
        feed.feed(book, rec)
    flags = store.projections().venue_flags
    rows = []
    for venue in [*configured, *sorted(set(flags) - set(configured))]:
        flag = store.venue_flag(venue)
        state = state_of(flag)
        penalty = book.penalty(venue, now_ns)
        since = next(store.events(flag.last_seq - 1, limit=1), None) if flag.last_seq else None
        rows.append(
            {
                "venue": venue,
                "configured": venue in configured,
                "state": state.value,
                "score": round(max(0.0, 100.0 - penalty), 1),
                "penalty": round(penalty, 2),
                "penalty_bps": policy.router_bps(state, penalty),
                "held": is_held(flag),
                "reason": flag.reason,
                "since_seq": flag.last_seq or None,
                "since": _iso(since.recv_ns) if since is not None else None,
            }
        )
    return rows


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def venues(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every venue's health: state (ok / degraded / halted), score (100 = clean), reason and since when."""
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
