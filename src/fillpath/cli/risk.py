"""``fillpath halt`` / ``fillpath resume``: the global kill switch, or one venue's halted flag."""

from __future__ import annotations

from typing import Annotated

import typer

from fillpath.app import kill_switch, open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console
from fillpath.model.events import VenueHalted, VenueResumed

VenueArg = Annotated[str | None, typer.Argument(help="A venue or location id; without one, everything.")]


def halt(
    ctx: typer.Context,
    venue: VenueArg = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "halted by an operator",
) -> None:
    """Stop trading: everywhere (the kill switch), or on one venue."""
    svc = cli_context(ctx).service()
    if svc is not None:
        console().print(f"service: {svc.halt(venue, reason)}")
        return
    cfg = cli_context(ctx).config()
    if venue is None:
        kill_switch(cfg).engage(reason)
        console().print(f"kill switch engaged: no trading command will be sent ({kill_switch(cfg).path})")
        return
    with open_store(cfg) as store:
        store.append(VenueHalted(venue, reason))
    console().print(f"{venue} halted")


def resume(ctx: typer.Context, venue: VenueArg = None) -> None:
    """Release the kill switch, or clear one venue's halted/degraded flag."""
    svc = cli_context(ctx).service()
    if svc is not None:
        console().print(f"service: {svc.resume(venue)}")
        return
    cfg = cli_context(ctx).config()
    if venue is None:
        released = kill_switch(cfg).release()
        console().print("kill switch released" if released else "the kill switch was not engaged")
        return
    with open_store(cfg) as store:
        store.append(VenueResumed(venue, "resumed by an operator"))
    console().print(f"{venue} resumed")
