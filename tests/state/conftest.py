"""Fixtures: every store test runs on SQLite (a temp file) and on PostgreSQL (a fresh schema per test).

PostgreSQL cases skip, saying why, when no server answers on 127.0.0.1:5432. Schemas are named after this
process and a random run id, so parallel runs and xdist workers never share one; each is dropped after its
test, and anything left by this run is dropped at the end of the session.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from fillpath.state.store import Store

PG_HOST, PG_DB = "127.0.0.1", "test"
PG_PORT = int(os.environ.get("FILLPATH_TEST_PG_PORT", "5432"))  # another port: to see the skip path


@dataclass(frozen=True)
class PgServer:
    user: str | None
    why_not: str
    run_id: str

    def conninfo(self) -> str:
        return f"host={PG_HOST} port={PG_PORT} dbname={PG_DB} user={self.user} connect_timeout=3"

    def url(self, schema: str) -> str:
        options = quote(f"-csearch_path={schema}")
        return f"postgresql+psycopg://{self.user}@{PG_HOST}:{PG_PORT}/{PG_DB}?options={options}"

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql)


def _find_pg() -> tuple[str | None, str]:
    problem = ""
    for user in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user=user, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return user, ""
        except psycopg.Error as exc:
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None, problem


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    user, why = _find_pg()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = PgServer(user, why, f"fp_{worker}_{os.getpid()}_{secrets.token_hex(3)}")
    yield server
    if user is not None:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (server.run_id + "%",)
            ).fetchall()
            for (name,) in rows:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


_schema_numbers = count(1)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A URL whose search_path is a fresh, empty schema."""
    if pg_server.user is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {pg_server.why_not}")
    schema = f"{pg_server.run_id}_{next(_schema_numbers)}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    yield pg_server.url(schema)
    pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'journal.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak runs (``slow``) here run only when asked for with ``-m``, so a bare ``pytest`` stays quick."""
    if config.option.markexpr:
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="slow soak: run with -m slow (make test-slow)")
    for item in items:
        if item.get_closest_marker("slow") and here in Path(str(item.path)).parents:
            item.add_marker(skip)
