"""``fillpath db``: check a journal, back it up, restore a backup, or start a new journal — each explicit, none
deleting anything (a replaced or retired journal is moved aside with a time stamp).

Backups use SQLite's online backup API (consistent while others write) and are checked before they are kept;
PostgreSQL journals are backed up with the server's own tools (pg_dump), which this module does not wrap.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from fillpath.model.errors import DamagedState, InvalidInput
from fillpath.state import identity
from fillpath.state.identity import JournalHome, Marker


@dataclass(frozen=True, slots=True)
class JournalReport:
    """What ``db check`` found. ``problems`` empty: the journal is sound and is this data directory's."""

    database: str
    exists: bool
    size: int | None = None
    integrity: str | None = None
    schema: str | None = None
    head: str | None = None
    journal_id: str | None = None
    marker_id: str | None = None
    entries: int | None = None
    last_seq: int | None = None
    backups: int = 0
    latest_backup: str | None = None
    problems: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "database": self.database, "exists": self.exists, "size": self.size, "integrity": self.integrity,
            "schema": self.schema, "head": self.head, "journal_id": self.journal_id, "marker_id": self.marker_id,
            "entries": self.entries, "last_seq": self.last_seq, "backups": self.backups,
            "latest_backup": self.latest_backup, "problems": list(self.problems),
        }  # fmt: skip


def _sqlite_only(url: str, what: str) -> Path:
    path = identity.sqlite_path(url)
    if path is None:
        raise InvalidInput(
            "database_url", f"the journal is in PostgreSQL: `fillpath db {what}` handles SQLite files", "use pg_dump"
        )
    return path


def check_journal(url: str, home: JournalHome | None, *, full: bool = False) -> JournalReport:
    """Every check ``Store.open`` makes, without changing anything (no migration, no marker written), plus the
    journal's own consistency (seq gaps, projections against a replay) when the schema is current."""
    from fillpath.state.migrate import current_revision, head_revision, known_revisions
    from fillpath.state.store import Store, make_engine

    path = identity.sqlite_path(url)
    found = identity.backups(home)
    latest = str(found[-1]) if found else None
    marker = identity.read_marker(home, url) if home is not None else None
    base = JournalReport(str(path) if path else identity.where(url), False, backups=len(found), latest_backup=latest)
    marker_id = marker.journal_id if marker else None
    if path is not None and not path.exists() and not path.is_symlink() and marker is None:
        return base
    if path is not None:
        identity.check_sqlite_file(path, home, marker)
    head = head_revision()
    engine = make_engine(url)
    problems: list[str] = []
    try:
        integrity = None
        if path is not None:
            issues = identity.quick_check(engine, full=full)
            integrity = "ok" if not issues else "; ".join(issues[:3])
            if issues:
                raise DamagedState(str(path), f"the journal is damaged: {issues[0]}", identity.restore_hint(home))
        rev = current_revision(engine)
        if rev is None:
            problems.append("holds no fillpath journal")
            return replace(base, exists=True, integrity=integrity, head=head, marker_id=marker_id,
                           problems=tuple(problems), size=_size(path))  # fmt: skip
        if rev not in known_revisions():
            problems.append(f"schema {rev} is newer than this fillpath ({head})")
        journal_id = identity.journal_id(engine) if rev != "0001" and rev in known_revisions() else None
        if marker is not None and journal_id is not None and journal_id != marker.journal_id:
            problems.append(f"holds journal {journal_id}, but this data directory's journal is {marker.journal_id}")
        entries, last = identity.count_and_last(engine)
        if rev == head:
            store = Store(engine)
            problems += store.verify()
        elif rev in known_revisions():
            problems.append(f"schema {rev} is older than {head}: the next command backs it up and migrates it")
    except DBAPIError as exc:
        if path is None:
            raise
        problem = f"the journal cannot be read: {identity.describe_error(exc)}"
        raise DamagedState(str(path), problem, identity.restore_hint(home)) from None
    finally:
        engine.dispose()
    return replace(
        base, exists=True, size=_size(path), integrity=integrity, schema=rev, head=head, journal_id=journal_id,
        marker_id=marker_id, entries=entries, last_seq=last, problems=tuple(problems),
    )  # fmt: skip


def _size(path: Path | None) -> int | None:
    try:
        return path.stat().st_size if path is not None else None
    except OSError:
        return None


def backup_journal(url: str, home: JournalHome, out: Path | None = None) -> tuple[Path, int]:
    """A checked copy of the SQLite journal (``<data dir>/backups/fillpath-<time>-manual.db`` unless ``out``);
    returns its path and the last seq it holds. A damaged journal, or one that is not this data directory's, is
    refused, not copied: the restore hint offers the latest backup, which must be a sound copy of the right one."""
    path = _sqlite_only(url, "backup")
    marker = identity.read_marker(home, url)
    if not identity.check_sqlite_file(path, home, marker):
        raise InvalidInput(str(path), "there is no journal to back up yet", "it is created by the first command")
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            found = (
                conn.execute("SELECT journal_id FROM journal_identity WHERE id = 1").fetchone()
                if rows == ["ok"]
                else None
            )
        except sqlite3.DatabaseError as exc:
            raise DamagedState(str(path), f"the journal cannot be read: {exc}", identity.restore_hint(home)) from None
    if rows != ["ok"]:
        raise DamagedState(str(path), f"the journal is damaged: {rows[0]}", identity.restore_hint(home))
    if marker is not None and found is not None and str(found[0]) != marker.journal_id:
        problem = f"holds journal {found[0]}, but this data directory's journal here is {marker.journal_id}"
        raise DamagedState(str(path), problem, identity.restore_hint(home))
    dest = out if out is not None else home.backups / identity.backup_name("manual")
    identity.backup_sqlite(path, dest)
    return dest, _last_seq(dest)


def _last_seq(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        try:
            return int(conn.execute("SELECT last_seq FROM journal_head WHERE id = 1").fetchone()[0])
        except (sqlite3.DatabaseError, TypeError):
            return 0


def _backup_identity(backup: Path) -> tuple[str | None, str]:
    """A backup's journal id (None before schema 0002) and schema revision; refuses a file that is not a sound
    fillpath journal."""
    from fillpath.state.migrate import known_revisions

    field_ = "BACKUP"
    if not identity.check_sqlite_file(backup, None, None):
        raise InvalidInput(field_, f"{backup} does not exist", "give the path of a backup (`ls <data dir>/backups`)")
    with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as conn:
        try:
            if [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()] != ["ok"]:
                raise InvalidInput(field_, f"{backup} is damaged", "give another backup")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            rev = str(row[0]) if row else ""
            if rev not in known_revisions():
                raise InvalidInput(field_, f"{backup} is not a fillpath journal this version knows", "check the file")
            jid = None
            if rev != "0001":
                found = conn.execute("SELECT journal_id FROM journal_identity WHERE id = 1").fetchone()
                jid = str(found[0]) if found else None
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(field_, f"{backup} cannot be read: {exc}", "give another backup") from None
    return jid, rev


def restore_journal(url: str, home: JournalHome, backup: Path, *, yes: bool = False) -> list[Path]:
    """Put ``backup`` in the journal's place. The current journal (if any) is moved aside, never deleted; returns
    what was moved. A backup of another journal than the data directory's needs ``yes``."""
    path = _sqlite_only(url, "restore")
    if backup.resolve() == path.resolve():
        raise InvalidInput("BACKUP", "is the journal itself", "give a backup file")
    jid, _rev = _backup_identity(backup)
    try:
        marker = identity.read_marker(home, url)
    except DamagedState:
        marker = None  # restoring is how a damaged marker is replaced
    if marker is not None and jid is not None and jid != marker.journal_id and not yes:
        raise InvalidInput(
            "BACKUP",
            f"holds journal {jid}, not this data directory's journal {marker.journal_id}",
            "check the file; add --yes to restore it anyway",
        )
    moved = identity.set_aside(path, "replaced")
    identity.backup_sqlite(backup, path)
    if jid is not None:
        with contextlib.suppress(DamagedState):
            identity.forget_marker(home, url)
        identity.write_marker(home, Marker(jid, _rev, identity.key(url)))
    else:  # an old backup: the next command migrates it and records its id
        with contextlib.suppress(DamagedState):
            identity.forget_marker(home, url)
    return moved


def start_new_journal(url: str, home: JournalHome, *, yes: bool = False) -> list[Path]:
    """Retire the journal (SQLite: moved aside with its WAL; PostgreSQL: its recorded identity is forgotten, nothing
    is dropped) so the next open starts a new, empty one. Returns what was moved."""
    if not yes:
        raise InvalidInput(
            "--yes",
            "a new journal starts without the old one's history, open intents and ledger",
            "run `fillpath db new --yes` to do it (the old files are kept, renamed), or restore a backup",
        )
    moved: list[Path] = []
    path = identity.sqlite_path(url)
    if path is not None:
        moved += identity.set_aside(path, "retired")
    try:
        identity.forget_marker(home, url)
    except DamagedState:  # a damaged marker is set aside with the journal it described
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = home.marker.with_name(f"{home.marker.name}.retired-{stamp}")
        os.replace(home.marker, target)
        moved.append(target)
    return moved
