"""``fillpath db check | backup | restore | new``: the journal, checked, copied, restored, or started over.

What to do with a damaged journal is in docs/state.md ("A damaged journal"); every refusal elsewhere names these
commands. Nothing here deletes a journal: a replaced or retired one is renamed with a time stamp.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fillpath.app import journal_home, open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.model.errors import DamagedState
from fillpath.paths import check_output_path, ensure_private_dir
from fillpath.state import maintenance

app = typer.Typer(help="The journal: check it, back it up, restore a backup, or start a new one.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
YesOpt = Annotated[bool, typer.Option("--yes", help="Confirm: this replaces what the data directory uses.")]


@app.command("check")
def check(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    full: Annotated[
        bool, typer.Option("--full", help="SQLite's integrity_check (slower) instead of quick_check.")
    ] = False,
) -> None:
    """Check the journal without changing it: file, SQLite integrity, schema, identity, seqs, projections."""
    cfg = cli_context(ctx).config()
    report = maintenance.check_journal(cfg.resolved_database_url, journal_home(cfg), full=full)
    if as_json:
        emit_json(report.to_json())
    else:
        out = console()
        if not report.exists:
            out.print(f"no journal yet at {report.database}: the first command that records something creates it")
            return
        out.print(f"journal {report.journal_id or '-'} at {report.database} ({report.size or 0:,} bytes)")
        out.print(
            f"  integrity: {report.integrity or '-'}; schema {report.schema} (this fillpath writes {report.head})"
        )
        out.print(f"  entries: {report.entries} (last seq {report.last_seq}); recorded id: {report.marker_id or '-'}")
        out.print(f"  backups: {report.backups}" + (f", latest {report.latest_backup}" if report.latest_backup else ""))
    if report.problems:
        raise DamagedState(report.database, "; ".join(report.problems), "see docs/state.md, 'A damaged journal'")
    if not as_json:
        console().print("ok")


@app.command("backup")
def backup(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the backup here (default: <data dir>/backups/...).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy the journal with SQLite's online backup API (safe while others write), checked, mode 0600."""
    cfg = cli_context(ctx).config()
    if out is not None:
        check_output_path(out, "--out")
        if out.exists():
            raise DamagedState("--out", f"{out} exists", "a backup never overwrites a file: give a new name")
    else:
        ensure_private_dir(cfg.data_dir)
    path, last = maintenance.backup_journal(cfg.resolved_database_url, journal_home(cfg), out)
    if as_json:
        emit_json({"backup": str(path), "last_seq": last})
        return
    console().print(f"backed up the journal (last seq {last}) to {path}")


@app.command("restore")
def restore(
    ctx: typer.Context,
    backup_file: Annotated[Path, typer.Argument(metavar="BACKUP", help="A backup made by `fillpath db backup`.")],
    yes: YesOpt = False,
) -> None:
    """Put a backup in the journal's place; the current journal file, if any, is kept under a new name."""
    cfg = cli_context(ctx).config()
    ensure_private_dir(cfg.data_dir)
    moved = maintenance.restore_journal(cfg.resolved_database_url, journal_home(cfg), backup_file, yes=yes)
    with open_store(cfg) as store:  # the restored journal opens as every command will open it
        console().print(f"restored journal {store.journal_id} (last seq {store.last_seq}) from {backup_file}")
    for p in moved:
        console().print(f"the journal it replaced is kept as {p}")


@app.command("new")
def new(ctx: typer.Context, yes: YesOpt = False) -> None:
    """Start a new, empty journal; the old one is kept under a new name (SQLite) or forgotten, not dropped
    (PostgreSQL)."""
    cfg = cli_context(ctx).config()
    ensure_private_dir(cfg.data_dir)
    moved = maintenance.start_new_journal(cfg.resolved_database_url, journal_home(cfg), yes=yes)
    for p in moved:
        console().print(f"kept {p}")
    with open_store(cfg) as store:
        console().print(f"started journal {store.journal_id}")
