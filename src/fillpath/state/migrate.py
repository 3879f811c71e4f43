"""Schema migrations, run in-process: the store upgrades its database to head every time it opens.

Alembic is imported only when a journal is not at ``HEAD_REVISION`` (new, or older than this version): every
command opens the journal, and loading alembic and its revision scripts cost about as much as the rest of opening.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x66696C6C  # "fill": one migrator at a time per database
HEAD_REVISION = "0005"
"""The newest revision under ``migrations/versions`` (``head_revision()`` reads it from the scripts; a test holds
the two equal, so a new migration must move this too)."""
VERSION_TABLE = "alembic_version"


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction.

    Two processes opening one fresh database at once must not both create the tables: on PostgreSQL a
    transaction-scoped advisory lock makes them take turns; on SQLite ``BEGIN IMMEDIATE`` already does.
    """
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision a database is at (None: no fillpath journal in it)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect().execution_options(fillpath_read_only=True) as conn:
        rev = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return rev


def stamped_revision(engine: Engine) -> str | None:
    """The revision the database's version table names, read with one query and no alembic (None: no table, or
    not exactly one row: then ``current_revision`` decides)."""
    with engine.connect().execution_options(fillpath_read_only=True) as conn:
        rows: list[str] = []
        if inspect(conn).has_table(VERSION_TABLE):
            rows = [str(r) for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()]
        conn.rollback()
    return rows[0] if len(rows) == 1 else None


def head_revision() -> str:
    """The schema revision this version of fillpath writes."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
