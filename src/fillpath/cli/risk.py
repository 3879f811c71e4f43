"""``fillpath halt`` / ``fillpath resume``: the global kill switch, or one venue's halted flag."""

from __future__ import annotations

from typing import Annotated

import typer

from fillpath.app import journal_exists, kill_switch, open_store, resolve_venue
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, err_console
from fillpath.config import Config
from fillpath.execution.guards import EVERYWHERE
from fillpath.model.errors import FillpathError, InvalidInput
from fillpath.model.events import VenueHalted, VenueResumed
from fillpath.paths import ensure_private_dir

MAX_REASON = 500

VenueArg = Annotated[str | None, typer.Argument(help="A venue or location id; without one, everything.")]


def halt(
    ctx: typer.Context,
    venue: VenueArg = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "halted by an operator",
) -> None:
    """Stop trading: everywhere (the kill switch), or on one venue."""
    if not reason.strip() or len(reason) > MAX_REASON:
        raise InvalidInput("--reason", f"{len(reason)} characters", f"say why in 1 to {MAX_REASON} characters")
    svc = cli_context(ctx).service()
    if svc is not None:
        console().print(f"service: {svc.halt(venue, reason)}")
        return
    cfg = cli_context(ctx).config()
    if venue is None:
        ensure_private_dir(cfg.data_dir)  # the switch may be the first thing a fresh data directory holds
        kill_switch(cfg).engage(reason)
        console().print(f"kill switch engaged: no trading command will be sent ({kill_switch(cfg).path})")
        _everywhere(cfg, VenueHalted(EVERYWHERE, reason))
        return
    name = _resolve(cfg, venue)
    with open_store(cfg) as store:
        store.append(VenueHalted(name, reason))
    console().print(f"{name} halted")


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
        _everywhere(cfg, VenueResumed(EVERYWHERE, "resumed by an operator"))
        return
    name = _resolve(cfg, venue)
    with open_store(cfg) as store:
        flag = store.projections().venue_flags.get(name)
        if flag is None or not (flag.halted or flag.degraded):
            console().print(f"{name} was not halted or degraded: nothing to resume")
            return
        store.append(VenueResumed(name, "resumed by an operator"))
    console().print(f"{name} resumed")


def _everywhere(cfg: Config, event: VenueHalted | VenueResumed) -> None:
    """The kill switch in the journal too (venue ``*``): engines on other machines sharing a PostgreSQL journal
    see it at their next refresh; the file is this machine's. The file is the switch that must never fail: a
    journal that cannot be written is reported, not fatal."""
    if not journal_exists(cfg):
        return
    try:
        with open_store(cfg) as store:
            halted = store.venue_flag(EVERYWHERE).halted
            if isinstance(event, VenueHalted) != halted:
                store.append(event)
    except FillpathError as exc:
        err_console().print(f"warning: the journal's halt was not recorded ({exc}); the kill-switch file holds")


def _resolve(cfg: Config, venue: str) -> str:
    """A configured venue, or one the journal already flags (an old flag can always be cleared). The journal is
    read only if it exists: a refused name creates nothing."""
    try:
        return resolve_venue(cfg, venue, "VENUE")
    except InvalidInput:
        if not journal_exists(cfg):
            raise
    with open_store(cfg) as store:
        return resolve_venue(cfg, venue, "VENUE", also=store.projections().venue_flags)
