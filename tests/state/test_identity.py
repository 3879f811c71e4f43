"""A journal is identified, checked on open, and never silently replaced: an empty, truncated, random, missing or
swapped journal is refused with the file, the backup and the commands to restore or start over."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from fillpath.model.errors import DamagedState, InvalidInput
from fillpath.model.events import VenueHalted
from fillpath.state import identity, maintenance
from fillpath.state.identity import JournalHome
from fillpath.state.migrate import HEAD_REVISION, head_revision, upgrade
from fillpath.state.store import Store, make_engine


def journal(data: Path, entries: int = 3) -> tuple[str, JournalHome]:
    url = f"sqlite:///{data / 'fillpath.db'}"
    home = JournalHome.of(data)
    with Store.open(url, home=home) as store:
        for k in range(entries):
            store.append(VenueHalted(f"v{k}", "r"))
    return url, home


def refusal(url: str, home: JournalHome) -> DamagedState:
    with pytest.raises(DamagedState) as info:
        Store.open(url, home=home)
    return info.value


def test_a_new_journal_is_identified_in_itself_and_in_the_data_directory(tmp_path: Path) -> None:
    url, home = journal(tmp_path / "data")
    marker = json.loads(home.marker.read_text())
    with Store.open(url, home=home) as store:
        assert store.journal_id is not None
        assert marker["journals"][identity.key(url)] == {"journal_id": store.journal_id, "schema": head_revision()}
        assert store.last_seq == 3


def test_the_head_revision_constant_is_the_scripts_head() -> None:
    """``Store.open`` skips alembic for a journal stamped ``HEAD_REVISION``: a new migration must move it."""
    assert head_revision() == HEAD_REVISION


def test_opening_a_journal_at_head_loads_no_alembic(tmp_path: Path) -> None:
    """Every command opens the journal; at head that takes one query, not alembic and its revision scripts (an
    older journal still migrates through alembic, with its backup: ``test_migration_backup_through_open``)."""
    url, _ = journal(tmp_path / "data")
    probe = (
        "import sys\nfrom pathlib import Path\nfrom fillpath.state.identity import JournalHome\n"
        "from fillpath.state.store import Store\n"
        f"with Store.open({url!r}, home=JournalHome.of(Path({str(tmp_path / 'data')!r}))) as s:\n"
        "    print(s.last_seq, s.journal_id is not None, 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["3", "True", "False"]


def test_files_are_private(tmp_path: Path) -> None:
    url, home = journal(tmp_path / "data")
    db = tmp_path / "data" / "fillpath.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.marker.stat().st_mode) == 0o600
    db.chmod(0o644)  # an older version's journal is narrowed when opened
    Store.open(url, home=home).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda p: p.write_bytes(b""), "empty (0 bytes)"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "cannot be read"),
        (lambda p: p.write_bytes(os.urandom(len(p.read_bytes()))), "not a SQLite database"),
        (lambda p: (p.unlink(), p.mkdir()), "not a regular file"),
        (lambda p: p.unlink(), "missing"),
    ],
    ids=["0 bytes", "truncated", "random bytes", "a directory", "missing"],
)
def test_a_damaged_journal_is_refused_with_the_restore_hint(tmp_path: Path, damage: object, problem: str) -> None:
    url, home = journal(tmp_path / "data")
    backup, last = maintenance.backup_journal(url, home)
    assert last == 3
    db = tmp_path / "data" / "fillpath.db"
    before = sorted(os.listdir(tmp_path / "data"))
    damage(db)  # type: ignore[operator]
    exc = refusal(url, home)
    assert str(db) in exc.field and problem in exc.problem
    assert f"fillpath db restore {backup}" in str(exc) and "fillpath db new --yes" in str(exc)
    assert "\n" not in str(exc)
    after = sorted(os.listdir(tmp_path / "data"))
    assert after == before or not db.exists()  # nothing created in its place
    if problem == "missing":
        assert not db.exists()


def test_an_empty_file_is_never_a_new_journal_even_without_a_marker(tmp_path: Path) -> None:
    db = tmp_path / "fillpath.db"
    db.write_bytes(b"")
    with pytest.raises(DamagedState, match="empty"):
        Store.open(f"sqlite:///{db}", home=JournalHome.of(tmp_path))
    assert db.stat().st_size == 0


def test_another_journal_in_its_place_is_refused(tmp_path: Path) -> None:
    url, home = journal(tmp_path / "data")
    db = tmp_path / "data" / "fillpath.db"
    db.unlink()
    Store.open(url).close()  # a sound journal, but not this data directory's
    exc = refusal(url, home)
    assert "holds journal" in exc.problem


def test_a_foreign_sqlite_database_is_not_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(InvalidInput, match="another application's tables"):
        Store.open(f"sqlite:///{db}")


def test_check_changes_nothing_on_an_old_schema(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'fillpath.db'}"
    engine = make_engine(url)
    upgrade(engine, "0001")  # a journal written before the identity revision
    engine.dispose()
    home = JournalHome.of(data)
    report = maintenance.check_journal(url, home)
    assert report.schema == "0001" and any("older" in p for p in report.problems)
    assert identity.backups(home) == [] and not home.marker.exists()
    with sqlite3.connect(data / "fillpath.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"


def test_migration_backup_through_open(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'fillpath.db'}"
    engine = make_engine(url)
    upgrade(engine, "0001")
    engine.dispose()
    home = JournalHome.of(data)
    with Store.open(url, home=home) as store:
        assert store.journal_id is not None
    (backup,) = identity.backups(home)
    assert f"before-{head_revision()}" in backup.name and stat.S_IMODE(backup.stat().st_mode) == 0o600
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url, home = journal(tmp_path / "data")
    with sqlite3.connect(tmp_path / "data" / "fillpath.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(InvalidInput, match="newer than this fillpath"):
        Store.open(url, home=home)


def test_backup_restore_and_start_over(tmp_path: Path) -> None:
    url, home = journal(tmp_path / "data")
    backup, _ = maintenance.backup_journal(url, home)
    db = tmp_path / "data" / "fillpath.db"
    db.write_bytes(b"")
    moved = maintenance.restore_journal(url, home, backup)
    assert [p.name.split(".")[1].split("-")[0] for p in moved] == ["db"]  # the emptied file is kept, renamed
    with Store.open(url, home=home) as store:
        assert store.last_seq == 3
        old_id = store.journal_id
    with pytest.raises(InvalidInput, match="--yes"):
        maintenance.start_new_journal(url, home)
    maintenance.start_new_journal(url, home, yes=True)
    with Store.open(url, home=home) as store:
        assert store.last_seq == 0 and store.journal_id != old_id
    with pytest.raises(InvalidInput, match="--yes"):  # the old backup is another journal now
        maintenance.restore_journal(url, home, backup)


def test_check_reports_a_sound_journal(tmp_path: Path) -> None:
    url, home = journal(tmp_path / "data")
    report = maintenance.check_journal(url, home, full=True)
    assert report.problems == () and report.entries == report.last_seq == 3 and report.integrity == "ok"
    assert report.journal_id == report.marker_id


def test_postgresql_journal_is_identified_too(pg_url: str, tmp_path: Path) -> None:
    home = JournalHome.of(tmp_path)
    with Store.open(pg_url, home=home) as store:
        store.append(VenueHalted("v", "r"))
        first = store.journal_id
    with Store.open(pg_url, home=home) as store:
        assert store.journal_id == first
    engine = make_engine(pg_url)
    with engine.begin() as conn:  # the journal is dropped behind fillpath's back
        for name in ("venue_flags", "ledger", "nonces", "intents", "transactions", "fills", "orders", "journal_head",
                     "journal", "journal_identity", "alembic_version"):  # fmt: skip
            conn.execute(text(f"DROP TABLE {name} CASCADE"))
    engine.dispose()
    with pytest.raises(DamagedState, match="holds no journal"):
        Store.open(pg_url, home=home)
    with pytest.raises(InvalidInput, match="pg_dump"):
        maintenance.backup_journal(pg_url, home)
