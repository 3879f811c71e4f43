"""Core statements compiled once and run on the DBAPI cursor of the caller's SQLAlchemy transaction.

``Connection.execute`` spends ~0.3 ms a statement on its execution context, parameter construction and result
set-up — three times what SQLite takes to run an append's statement. The append path runs four or five per
commit, so it hands the compiled SQL and its parameters (through the columns' own bind processors, so stored
values are what SQLAlchemy would store) straight to the driver, inside the transaction ``engine.begin()`` opened:
BEGIN, COMMIT, rollback and the connection pool stay SQLAlchemy's. Driver errors come out as SQLAlchemy's
``DBAPIError`` subclasses, as they would from ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


class Prepared:
    """One statement for one dialect: ``many`` runs it once per row (executemany), ``one`` returns a first row."""

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        self._dialect = dialect
        defaults: dict[str, Any] = dict(compiled.params)
        self._positional = compiled.positional
        self._names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(defaults)
        # values fixed in the statement (``id = 1``); every other parameter must come with each row, as in SQLAlchemy
        self._fixed = {n: defaults[n] for n in self._names if not compiled.binds[n].required}
        self._procs: tuple[Callable[[Any], Any] | None, ...] = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self._names
        )

    def params(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        fixed = self._fixed
        try:
            values = [fixed[n] if n in fixed else row[n] for n in self._names]
        except KeyError as exc:
            raise ValueError(f"no value for {exc.args[0]!r} in {self.sql!r}") from None
        values = [v if p is None or v is None else p(v) for p, v in zip(self._procs, values, strict=True)]
        return tuple(values) if self._positional else dict(zip(self._names, values, strict=True))

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        args = [self.params(r) for r in rows]
        with self._cursor(conn, args) as cur:
            cur.executemany(self.sql, args)

    def one(self, conn: Connection, row: Mapping[str, Any] | None = None) -> Any:
        """The first row (a tuple) the statement returns; LookupError if none."""
        args = self.params(row or {})
        with self._cursor(conn, args) as cur:
            cur.execute(self.sql, args)
            found = cur.fetchone()
        if found is None:
            raise LookupError(f"no row from {self.sql!r}")
        return found

    @contextmanager
    def _cursor(self, conn: Connection, args: Any) -> Iterator[Any]:
        dbapi = self._dialect.loaded_dbapi
        raw = conn.connection.dbapi_connection
        assert raw is not None  # a connection inside begin() is checked out
        cur = raw.cursor()
        try:
            yield cur
        except dbapi.Error as exc:
            gone = self._dialect.is_disconnect(exc, raw, cur)
            raise DBAPIError.instance(
                self.sql, args, exc, dbapi.Error, connection_invalidated=gone, dialect=self._dialect
            ) from exc
        finally:
            cur.close()
