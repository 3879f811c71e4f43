"""``fillpath events``: the journal itself, filtered — the audit trail of what was booked, accepted and why.

Reads only the store. ``--kind`` takes event kinds (``external.flow``, ``balances.accepted``, ``venue.identified``
— a lab epoch with the ledger it archived —, ``venue.halted``, ...) or a prefix ending in ``.`` (``transfer.``).
"""

from __future__ import annotations

import datetime
from collections import deque
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from fillpath.app import journal_exists, open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.model.errors import InvalidInput
from fillpath.model.events import EVENT_TYPES, Recorded, event_to_payload
from fillpath.model.validate import bounded_number

MAX_LAST = 100_000


def _matches(rec: Recorded, kinds: list[str], venue: str | None) -> bool:
    e = rec.event
    if venue is not None and e.venue != venue:
        return False
    return not kinds or any(e.kind == k or (k.endswith(".") and e.kind.startswith(k)) for k in kinds)


def _row(rec: Recorded) -> dict[str, Any]:
    return {"seq": rec.seq, "recv_ns": rec.recv_ns, "kind": rec.event.kind, "venue": rec.event.venue,
            **event_to_payload(rec.event)}  # fmt: skip


def events(
    ctx: typer.Context,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Event kind (repeatable), or a prefix ending in '.'.")
    ] = None,
    venue: Annotated[str | None, typer.Option("--venue", help="Only events about this venue.")] = None,
    last: Annotated[int, typer.Option("--last", help="The last N matching events (1 to 100,000).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = False,
) -> None:
    """The journal's events, newest last: external flows, accepted balances, lab epochs, halts, with their evidence.

    Reads only the store."""
    kinds = list(kind or [])
    known = {t.kind for t in EVENT_TYPES}
    for k in kinds:
        if not k.endswith(".") and k not in known:
            raise InvalidInput("--kind", f"{k!r} is not an event kind", f"one of {', '.join(sorted(known))}")
    n = int(bounded_number(last, "--last", low=1, high=MAX_LAST))
    cfg = cli_context(ctx).config()
    rows: deque[Recorded] = deque(maxlen=n)
    if journal_exists(cfg):
        with open_store(cfg) as store:
            rows.extend(r for r in store.events() if _matches(r, kinds, venue))
    if as_json:
        emit_json([_row(r) for r in rows])
        return
    t = Table(title="journal events")
    for col in ("seq", "time", "kind", "venue", "what"):
        t.add_column(col)
    for r in rows:
        what = ", ".join(f"{k}={v}" for k, v in event_to_payload(r.event).items() if k != "venue" and v is not None)
        when = datetime.datetime.fromtimestamp(r.recv_ns / 1e9, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
        t.add_row(str(r.seq), when, r.event.kind, r.event.venue, escape(what))
    console().print(t)
