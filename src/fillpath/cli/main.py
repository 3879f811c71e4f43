"""The ``fillpath`` command. Every error is one line naming the field and the fix, with an exit code from one table
(``EXIT_*``: 0 ok, 1 venue/runtime failure, 2 usage or refused, 3 halted).

Commands are loaded lazily: the root knows each command's module and one-line help (``COMMANDS``), and imports
a module only when its command runs, so ``--help``, ``--version`` and ``route --snapshot`` never load web3,
ccxt, SQLAlchemy or aiohttp (``benchmarks/bench_startup.py``). A test checks each line here against the
command's own help, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer import _click as click  # typer >= 0.29 vendors click (pinned in pyproject)
from typer.core import TyperGroup

from fillpath._version import __version__
from fillpath.model.errors import FillpathError, Halted, InvalidInput, Refused, printable


@dataclass(frozen=True, slots=True)
class Command:
    target: str
    """``module:attr``: a Typer app (a command group) or a command function."""
    help: str
    lab: bool = False
    """Part of the lab (``fillpath.lab``): needs the ``lab`` extra."""


COMMANDS: dict[str, Command] = {
    "lab": Command(
        "fillpath.lab.cli.lab:app",
        "Run the local lab: two anvil chains with the real Uniswap contracts and two simulated exchanges.",
        lab=True,
    ),
    "config": Command("fillpath.cli.config_cmd:app", "Inspect the configuration."),
    "snapshot": Command("fillpath.cli.snapshot:app", "Take and inspect market snapshots."),
    "keys": Command("fillpath.cli.keys:app", "Manage signing keys (encrypted V3 keystores)."),
    "demo": Command(
        "fillpath.lab.cli.demo:demo",
        "Start the lab, hold inventory on a chain and on the exchange, execute a 2,000 ETH sale, explain it.",
        lab=True,
    ),
    "reconcile": Command(
        "fillpath.cli.books:reconcile",
        "One reconciliation pass over every venue: what each reports against the ledger.",
    ),
    "balances": Command(
        "fillpath.cli.books:balances",
        "Unified balances: per asset@location and per symbol — ledger, venue-reported, in flight, drift, value.",
    ),
    "halt": Command("fillpath.cli.risk:halt", "Stop trading: everywhere (the kill switch), or on one venue."),
    "resume": Command(
        "fillpath.cli.risk:resume", "Release the kill switch, or clear one venue's halted/degraded flag."
    ),
    "route": Command(
        "fillpath.cli.route:route_cmd", "Route a swap over every venue at once (pure: no order is placed)."
    ),
    "swap": Command(
        "fillpath.cli.swap:swap", "Route and execute a swap across every venue (dry run unless --execute)."
    ),
    "rebalance": Command(
        "fillpath.cli.rebalance:rebalance",
        "Bring holdings inside a policy's bands: the cheapest moves over every venue (dry run unless --execute).",
    ),
    "schedule": Command("fillpath.cli.schedule:app", "Rebalancing schedules: what runs when, and what ran."),
    "recover": Command(
        "fillpath.cli.swap:recover_cmd",
        "Resolve every unresolved intent by asking its venue (order by client id, transaction by hash and nonce).",
    ),
    "report": Command(
        "fillpath.cli.report:report",
        "What an execution planned, what it realized, and its P&L decomposition — from the journal.",
    ),
    "events": Command(
        "fillpath.cli.events:events",
        "The journal's events, newest last: external flows, accepted balances, lab epochs, halts, with their evidence.",
    ),
    "venues": Command(
        "fillpath.cli.venues:venues",
        "Every venue's health: state (ok / degraded / halted), score (100 = clean), reason and since when.",
    ),
    "run": Command(
        "fillpath.cli.run:run",
        "Run the service: watch every venue, reconcile continuously, serve the HTTP API, dashboard and metrics.",
    ),
    "db": Command("fillpath.cli.db:app", "The journal: check it, back it up, restore a backup, or start a new one."),
    "sim": Command(
        "fillpath.lab.cli.sim:app", "Run the local exchange simulator (one venue, in one API dialect).", lab=True
    ),
    "chaos": Command(
        "fillpath.lab.chaos.cli:app",
        "Deterministic simulation: seeded scenarios of the whole engine against venues that fail on purpose.",
        lab=True,
    ),
}

LAB_EXTRA = ("web3", "eth_tester")
"""What the lab needs beyond the production install (``pip install 'fillpath[lab]'``)."""


def lab_missing() -> list[str]:
    """The lab extra's packages that are not installed (a spec lookup, no import)."""
    import importlib.util

    def absent(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):  # a module blocked (sys.modules[name] = None) or broken
            return True

    return [name for name in LAB_EXTRA if absent(name)]


def load(name: str) -> click.Command:
    """The click command for ``name``, importing its module now."""
    entry = COMMANDS[name]
    if entry.lab and (missing := lab_missing()):
        raise FillpathError(
            f"`fillpath {name}` is part of the lab, which is not installed here ({', '.join(missing)} missing): "
            "install it with `pip install 'fillpath[lab]'` (or run `make setup` in a checkout)"
        )
    module_name, attr = entry.target.split(":")
    obj: Any = getattr(importlib.import_module(module_name), attr)
    if isinstance(obj, typer.Typer):
        group = typer.main.get_group(obj)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(obj)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """The root group: lists every command from ``COMMANDS`` and builds one only when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return load(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry.help) for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="fillpath",
    cls=LazyGroup,
    help="Route, execute and reconcile swaps across exchanges, DEX pools and bridges.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


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
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            envvar="FILLPATH_SERVICE",
            help="Ask a running `fillpath run` (URL, or 'auto': the one serving the data directory) for balances, "
            "venues, halt/resume and swap.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    from fillpath.cli.context import CliContext

    ctx.obj = CliContext(config_path=config, debug=debug, service_url=service)


def one_line(text: str) -> str:
    """A message as one line: what a log line, a table test and a tired operator can all read."""
    return " ".join(str(text).split())


EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_HALTED = 0, 1, 2, 3
"""The exit codes, one table for every command (docs/operations.md; ``tests/cli/test_exit_codes.py`` holds it):

- 0: done.
- 1: a venue or the runtime failed (``Rejected``, ``Ambiguous``, ``Retryable``, a lab that would not start, a bug):
  look at the message; an ``Ambiguous`` outcome is resolved by ``fillpath recover`` / ``reconcile``, never by
  running the command again blindly.
- 2: usage or refused: a bad argument, file or configuration (``InvalidInput``), or a precondition that does not
  hold (``Refused``: the lab is down, something is in flight, a dry run's checks failed). Nothing moved.
- 3: halted: a risk gate is closed (``Halted``: the kill switch, a halted venue), or a reconciliation pass left a
  venue halted. ``fillpath venues`` says why; ``reconcile --accept`` or ``resume`` is the way on.
"""


def exit_code(exc: BaseException) -> int:
    """The table above, for one error."""
    if isinstance(exc, Halted):
        return EXIT_HALTED
    if isinstance(exc, InvalidInput | Refused):
        return EXIT_REFUSED
    return EXIT_FAILED


def run(argv: list[str] | None = None) -> None:
    """Entry point, and the one error funnel: every way a command can fail ends here as one line and an exit code
    from ``EXIT_*`` (never a traceback; ``--debug`` or ``FILLPATH_DEBUG=1`` shows it).

    - click/typer usage errors (an unknown option, a value of the wrong type): exit 2, with the command's help hint.
    - ``FillpathError``: :func:`exit_code`.
    - anything else is a bug or an environment failure: one line naming the exception, exit 1.
    """
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("FILLPATH_DEBUG") == "1"
    try:
        code = app(args=args, prog_name="fillpath", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(EXIT_REFUSED)
    except click.exceptions.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx is not None else "fillpath"
        _fail(f"{exc.format_message()} (see `{path} --help`)", EXIT_REFUSED)
    except click.exceptions.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code or EXIT_FAILED)
    except typer.Abort:
        _fail("aborted", EXIT_FAILED)
    except FillpathError as exc:
        if debug:
            raise
        problems = getattr(exc, "problems", ())  # a file with several bad fields: one line each
        if isinstance(exc, InvalidInput) and problems:
            _fail(f"{exc.field}: {len(problems)} problem(s)", exit_code(exc), more=[str(p) for p in problems])
        _fail(str(exc), exit_code(exc))
    except RecursionError:
        if debug:
            raise
        _fail(
            "the input is nested too deeply to process (this is a bug: the input limits should have caught it)",
            EXIT_FAILED,
        )
    except Exception as exc:  # the funnel: a bug must still end in one line, not a traceback
        if debug:
            raise
        detail = f": {exc}" if str(exc) else ""
        _fail(f"unexpected {type(exc).__name__}{detail} (run with --debug for the traceback)", EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _fail(message: str, code: int, *, more: list[str] | None = None) -> NoReturn:
    from rich.markup import escape

    from fillpath.cli.output import err_console

    err = err_console()
    err.print(f"[red]error:[/red] {escape(printable(one_line(message)))}", markup=True)
    for line in more or ():
        err.print(f"  {escape(printable(one_line(line)))}", markup=False)
    sys.exit(code)


if __name__ == "__main__":
    run()
