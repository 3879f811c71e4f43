"""``fillpath run``: the long-running service (docs/service.md), with the rebalancing schedules it is given."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from fillpath.cli.context import cli_context


def run(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default [service] host).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default [service] port; 0: a free one).")] = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            "--policy", help="A rebalancing policy with a [schedule] to run (repeatable; docs/rebalancing.md)."
        ),
    ] = None,
) -> None:
    """Run the service: watch every venue, reconcile continuously, serve the HTTP API, dashboard and metrics."""
    from fillpath.rebalance.jobs import RebalanceJob
    from fillpath.rebalance.registry import record, scheduled_policies
    from fillpath.service.runner import run as serve

    cfg = cli_context(ctx).config()
    paths = list(policy or ())
    jobs = [RebalanceJob(p) for p in scheduled_policies(cfg, paths)]  # every file checked before anything starts

    def announce(line: str) -> None:
        typer.echo(line)

    reason = serve(cfg, host, port, announce=announce, jobs=jobs, on_locked=lambda: record(cfg, paths))
    typer.echo(f"stopped ({reason})", err=True)
    # Everything is closed and the stop journaled: skip the interpreter's teardown of ~2,000 modules, which takes
    # ~1 s here (several on a loaded machine) and would hold a SIGTERM's exit for nothing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
