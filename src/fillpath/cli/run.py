"""``fillpath run``: the long-running service (docs/service.md)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from fillpath.cli.context import cli_context


def run(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default [service] host).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default [service] port; 0: a free one).")] = None,
) -> None:
    """Run the service: watch every venue, reconcile continuously, serve the HTTP API, dashboard and metrics."""
    from fillpath.service.runner import run as serve

    def announce(line: str) -> None:
        typer.echo(line)

    reason = serve(cli_context(ctx).config(), host, port, announce=announce)
    typer.echo(f"stopped ({reason})", err=True)
    # Everything is closed and the stop journaled: skip the interpreter's teardown of ~2,000 modules, which takes
    # ~1 s here (several on a loaded machine) and would hold a SIGTERM's exit for nothing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
