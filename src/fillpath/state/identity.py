"""The journal's identity, and the checks that keep a damaged, emptied or swapped journal from ever being used as
if it were the real one.

A journal (the SQLite file or the PostgreSQL database) holds a random id (table ``journal_identity``, migration
0002) and its schema revision (alembic's ``alembic_version``). The data directory records both, per database
location, in ``journal.json`` (the *marker*, mode 0600). Opening a journal with a home (``Store.open(..., home=...)``):

1. SQLite: the file, if the marker says one existed, must be there; it must be a regular file, not empty, with
   SQLite's header; ``PRAGMA quick_check`` must say ``ok``.
2. A database without fillpath's tables is created only when the marker records no journal, and only if it holds
   no other tables (fillpath never moves into someone else's database).
3. A journal whose schema is older than this version's is backed up (SQLite's online backup API, into
   ``<data dir>/backups``) before it is migrated; one newer than this version is refused.
4. The journal's id must equal the marker's; then the marker is (re)written.

Every refusal is ``DamagedState`` (an ``InvalidInput``: exit 2) naming the file, the latest backup, and the
commands to restore it or to start over (``fillpath db restore`` / ``fillpath db new``). Nothing is repaired,
replaced or created silently: an empty journal once passed for a new one and history, intents and the ledger
were gone without a word.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from fillpath.model.errors import DamagedState, InvalidInput
from fillpath.state import tables

MARKER_FORMAT = "fillpath.journal-id/1"
SQLITE_HEADER = b"SQLite format 3\x00"
PRIVATE_FILE = 0o600


@dataclass(frozen=True, slots=True)
class JournalHome:
    """Where a data directory keeps its journal's marker and the journal's backups."""

    marker: Path
    backups: Path

    @classmethod
    def of(cls, data_dir: Path) -> JournalHome:
        return cls(data_dir / "journal.json", data_dir / "backups")


@dataclass(frozen=True, slots=True)
class Marker:
    """What the data directory records of the journal at one database location."""

    journal_id: str
    schema: str
    database: str
    """The journal's location, as ``key(url)`` gives it (an absolute SQLite path, or a URL without password)."""


def key(url: str) -> str:
    """A database location as the marker records it: SQLite by absolute path, others without a password."""
    path = sqlite_path(url)
    return f"sqlite:///{os.path.abspath(path)}" if path is not None else where(url)


def where(url: str) -> str:
    """A database URL without its password (for messages and the marker)."""
    return _url(url).render_as_string(hide_password=True)


def _url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise InvalidInput("database_url", "is not a database URL", "use sqlite:///path or postgresql://...") from None


def sqlite_path(url: str) -> Path | None:
    parsed = _url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database).expanduser()


# --- the marker ------------------------------------------------------------------------------------------------
# {"format": ..., "journals": {location: {"journal_id", "schema"}}, "retired": [{location, journal_id, at}]}: one
# entry per database location the data directory has used (tests and tools point one data directory at several),
# so "the journal expected here" is always the one last seen at this location.


def _load(home: JournalHome) -> dict[str, Any]:
    try:
        raw = home.marker.read_bytes()
    except FileNotFoundError:
        return {"format": MARKER_FORMAT, "journals": {}, "retired": []}
    except OSError as exc:
        raise DamagedState(str(home.marker), f"cannot read it: {exc.strerror}", "check its permissions") from None
    try:
        data = json.loads(raw.decode())
        if data.get("format") != MARKER_FORMAT or not isinstance(data.get("journals"), dict):
            raise ValueError(data.get("format"))
        for entry in data["journals"].values():
            str(entry["journal_id"]), str(entry["schema"])
        data.setdefault("retired", [])
        return dict(data)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise DamagedState(
            str(home.marker),
            "is not a journal marker (damaged or foreign)",
            f"check the journal with `fillpath db check`; if it is the right one, remove {home.marker} and the next "
            "command records the journal's identity again",
        ) from None


def read_marker(home: JournalHome, url: str) -> Marker | None:
    """The identity recorded for the journal at ``url``'s location, if any."""
    entry = _load(home)["journals"].get(key(url))
    return None if entry is None else Marker(str(entry["journal_id"]), str(entry["schema"]), key(url))


def write_marker(home: JournalHome, marker: Marker) -> None:
    data = _load(home)
    data["journals"][marker.database] = {"journal_id": marker.journal_id, "schema": marker.schema}
    home.marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(home.marker, json.dumps(data, indent=2) + "\n")


def forget_marker(home: JournalHome, url: str) -> Marker | None:
    """Stop expecting a journal at ``url``'s location (it was retired on purpose); the entry is kept under
    ``retired``. Returns what was forgotten."""
    data = _load(home)
    entry = data["journals"].pop(key(url), None)
    if entry is None:
        return None
    data["retired"].append({"database": key(url), **entry, "retired_at": time.strftime("%Y-%m-%dT%H:%M:%SZ")})
    _write_private(home.marker, json.dumps(data, indent=2) + "\n")
    return Marker(str(entry["journal_id"]), str(entry["schema"]), key(url))


def _write_private(path: Path, body: str) -> None:
    """Atomically, 0600 from creation on (the state package knows no file helpers above it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- messages ---------------------------------------------------------------------------------------------------


def backups(home: JournalHome | None) -> list[Path]:
    """The backups in the data directory, oldest first."""
    if home is None or not home.backups.is_dir():
        return []
    return sorted(p for p in home.backups.glob("*.db") if p.is_file())


def restore_hint(home: JournalHome | None, *, sqlite: bool = True, kept: bool = True) -> str:
    """What to do about a journal that cannot be used: restore the latest backup, or start a new journal."""
    if not sqlite:
        return (
            "restore the database from your PostgreSQL backup (pg_restore), or start a new journal with "
            "`fillpath db new --yes` (this forgets the old journal's identity, it drops nothing)"
        )
    found = backups(home)
    start_over = "start a new, empty journal with `fillpath db new --yes`" + (
        " (the damaged file is kept beside it)" if kept else ""
    )
    if found:
        return f"restore the latest backup with `fillpath db restore {found[-1]}`, or {start_over}"
    where_ = f" (none in {home.backups})" if home is not None else ""
    return f"there is no backup{where_}: {start_over}"


def _damaged(path: Path | str, problem: str, home: JournalHome | None, *, sqlite: bool = True) -> DamagedState:
    return DamagedState(str(path), problem, restore_hint(home, sqlite=sqlite))


# --- SQLite files --------------------------------------------------------------------------------------------


def check_sqlite_file(path: Path, home: JournalHome | None, marker: Marker | None) -> bool:
    """Whether the journal file exists; refuses one that cannot be a journal (see the module's docstring)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        if marker is not None:
            problem = f"the journal is missing: this data directory's journal {marker.journal_id} was here"
            raise DamagedState(str(path), problem, restore_hint(home, kept=False)) from None
        return False
    except OSError as exc:
        raise _damaged(path, f"cannot read the journal: {exc.strerror}", home) from None
    if not stat.S_ISREG(st.st_mode):
        raise _damaged(path, "is not a regular file, so it is not a journal", home)
    if st.st_size == 0:
        raise _damaged(path, "the journal is empty (0 bytes): its history, intents and ledger are not there", home)
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise _damaged(path, f"cannot read the journal: {exc.strerror}", home) from None
    if head != SQLITE_HEADER:
        raise _damaged(path, "is not a SQLite database (its header is damaged or it is another file)", home)
    return True


def quick_check(engine: Engine, *, full: bool = False) -> list[str]:
    """SQLite's own consistency check (``PRAGMA quick_check``, or ``integrity_check`` when ``full``): the problems
    it reports, empty if the file is sound."""
    pragma = "integrity_check" if full else "quick_check"
    with engine.connect() as conn:
        rows = [str(r[0]) for r in conn.exec_driver_sql(f"PRAGMA {pragma}").fetchall()]
        conn.rollback()
    return [] if rows == ["ok"] else rows


def narrow(path: Path) -> None:
    """The journal and its WAL and shared-memory files: readable by their owner only."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            st = p.stat()
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(p, PRIVATE_FILE)


def create_private(path: Path) -> None:
    """Create the new journal's file empty and 0600, so SQLite's WAL and shared-memory files get that mode too."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    os.close(fd)


def backup_sqlite(source: Path, dest: Path) -> Path:
    """Copy a live SQLite journal with SQLite's online backup API (consistent even while others write), into a
    temporary file beside ``dest`` that is checked and then renamed; mode 0600."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.close(fd)
    try:
        src = sqlite3.connect(source)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # a backup is one self-contained file
                result = dst.execute("PRAGMA quick_check").fetchall()
            finally:
                dst.close()
        finally:
            src.close()
        if [r[0] for r in result] != ["ok"]:
            raise DamagedState(str(source), f"the backup does not check out: {result[:3]}", "check the journal")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except sqlite3.DatabaseError as exc:
        tmp.unlink(missing_ok=True)
        raise DamagedState(str(source), f"cannot be backed up: {exc}", restore_hint(None)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def backup_name(reason: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"fillpath-{stamp}-{time.time_ns() % 10**9:09d}-{reason}.db"


def set_aside(path: Path, label: str) -> list[Path]:
    """Move a journal file (and its WAL and shared-memory files) to ``<name>.<label>-<time>``, never deleting it."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    moved = []
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() or p.is_symlink():
            target = p.with_name(f"{p.name}.{label}-{stamp}")
            os.replace(p, target)
            moved.append(target)
    return moved


# --- what a database holds ----------------------------------------------------------------------------------


def journal_id(engine: Engine) -> str | None:
    t = tables.journal_identity
    with engine.connect() as conn:
        value = conn.execute(select(t.c.journal_id).where(t.c.id == 1)).scalar_one_or_none()
        conn.rollback()
    return None if value is None else str(value)


def foreign_tables(engine: Engine) -> list[str]:
    """Tables of a database that holds no fillpath journal (it has no ``alembic_version``)."""
    return sorted(inspect(engine).get_table_names())


def count_and_last(engine: Engine) -> tuple[int, int]:
    """The journal's row count and its head's last seq (equal in a sound journal)."""
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(tables.journal)).scalar_one()
        last = conn.execute(select(tables.journal_head.c.last_seq)).scalar_one()
        conn.rollback()
    return int(count), int(last)


def describe_error(exc: DBAPIError) -> str:
    orig: Any = exc.orig
    return str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else type(exc).__name__
