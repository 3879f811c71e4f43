"""``fillpath config show``: the resolved configuration, secrets redacted."""

from __future__ import annotations

from typing import Annotated

import typer

from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.config import redacted_view

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the resolved configuration. Secrets are never printed: only whether their variables are set."""
    view = redacted_view(cli_context(ctx).config())
    if as_json:
        emit_json(view)
        return
    out = console()
    out.print(f"[bold]config[/bold] from {view['source']}")
    for key in ("lab", "data_dir", "database_url", "numeraire"):
        out.print(f"  {key}: {view[key]}")
    for section in ("locations", "accounts", "exchanges"):
        out.print(f"[bold]{section}[/bold]" + ("" if view[section] else ": none"))
        for name, body in view[section].items():
            fields = ", ".join(f"{k}={v}" for k, v in body.items() if v not in (None, [], {}))
            out.print(f"  {name}: {fields}")
    out.print(f"[bold]risk[/bold]: {view['risk']}")
