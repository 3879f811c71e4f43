"""The ``fillpath`` command. User errors print one line naming the field and the fix, and exit 2."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from fillpath import __version__
from fillpath.cli import books, config_cmd, demo, keys, lab, report, risk, route, snapshot, swap, venues
from fillpath.cli.context import CliContext
from fillpath.cli.output import err_console
from fillpath.cli.sim import app as sim_app
from fillpath.model.errors import FillpathError, InvalidInput

app = typer.Typer(
    name="fillpath",
    help="Route, execute and reconcile swaps across exchanges, DEX pools and bridges.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(lab.app, name="lab")
app.add_typer(config_cmd.app, name="config")
app.add_typer(snapshot.app, name="snapshot")
app.add_typer(keys.app, name="keys")
app.command("demo")(demo.demo)
app.command("reconcile")(books.reconcile)
app.command("balances")(books.balances)
app.command("halt")(risk.halt)
app.command("resume")(risk.resume)
app.command("route")(route.route_cmd)
app.command("swap")(swap.swap)
app.command("recover")(swap.recover_cmd)
app.command("report")(report.report)
app.command("venues")(venues.venues)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fillpath {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", envvar="FILLPATH_CONFIG", help="Path of fillpath.toml.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = CliContext(config_path=config, debug=debug)


app.add_typer(sim_app, name="sim")


def run(argv: list[str] | None = None) -> None:
    """Entry point: turns fillpath's errors into one clear line and an exit code, never a traceback.

    typer handles its own usage errors (exit 2); fillpath's errors propagate out of it and are printed here.
    """
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("FILLPATH_DEBUG") == "1"
    try:
        app(args=args, standalone_mode=True)
    except FillpathError as exc:
        if debug:
            raise
        err_console().print(f"[red]error:[/red] {exc}", markup=True)
        sys.exit(2 if isinstance(exc, InvalidInput) else 1)


if __name__ == "__main__":
    run()
