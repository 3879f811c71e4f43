"""The store: an append-only, locally sequenced journal and its projections, in one database.

Every append is one transaction that (1) locks the one-row ``journal_head`` and reads the last seq, (2)
inserts the journal rows with the next seqs, (3) upserts the projection rows the events changed, and (4)
bumps the head. A rolled-back append leaves no gap, because the head moves with it; two writers (threads or
processes) take turns on the head's row lock (PostgreSQL ``SELECT … FOR UPDATE``, SQLite ``BEGIN
IMMEDIATE``), so seq is gap-free and unique across processes. A sequence would leave gaps on rollback.

The store keeps the projections in memory too, so the hot path reads them without touching the database.
The cache is caught up from the journal under the head lock whenever another process appended in between.

SQLite runs in WAL mode with ``synchronous=FULL`` by default: a commit is on disk before ``append``
returns, so an intent survives a power cut, not just a crash of the process (``NORMAL`` would survive only
the latter). Pass ``sqlite_synchronous="NORMAL"`` where losing the last commits on power loss is acceptable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.errors import Ambiguous, DamagedState, Halted, InvalidInput, Retryable
from fillpath.model.events import Event, IntentCreated, Recorded, event_from_payload, event_to_payload
from fillpath.state import identity, tables
from fillpath.state.clock import ClockTracker
from fillpath.state.identity import JournalHome, Marker
from fillpath.state.prepared import Prepared
from fillpath.state.projections import Projections, Touched
from fillpath.state.records import (
    BalanceRecord,
    FillRecord,
    IntentRecord,
    OrderRecord,
    TransferRecord,
    TxRecord,
    VenueFlag,
)
from fillpath.state.rows import RowWriter

_READ_ONLY = "fillpath_read_only"
_PAGE = 2000


def _sqlite_engine(url: str, synchronous: str, busy_timeout_ms: int) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # pysqlite's own transaction handling is off; we say BEGIN ourselves (below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute(f"PRAGMA synchronous = {synchronous}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: no deadlock-prone read-then-upgrade between writers.
        # On the driver's connection: through exec_driver_sql this costs ~0.1 ms of SQLAlchemy per transaction.
        sql = "BEGIN" if conn.get_execution_options().get(_READ_ONLY, False) else "BEGIN IMMEDIATE"
        raw = conn.connection.dbapi_connection
        assert raw is not None
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            raw.execute(sql)
        except dbapi_error as exc:  # as exec_driver_sql would raise it (e.g. OperationalError: database is locked)
            raise DBAPIError.instance(sql, (), exc, dbapi_error, dialect=conn.dialect) from exc

    return engine


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", busy_timeout_ms: int = 30_000) -> Engine:
    """An engine for a ``sqlite:///path`` or ``postgresql://`` URL (psycopg 3 unless a driver is named)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput("database_url", "is not a database URL", "use sqlite:///path or postgresql://...") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if sqlite_synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise InvalidInput("sqlite_synchronous", f"{sqlite_synchronous!r}", "FULL, EXTRA or NORMAL")
        if not parsed.database or parsed.database == ":memory:":
            raise InvalidInput("database_url", "an in-memory SQLite journal is not durable", "give a file path")
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(url, sqlite_synchronous, busy_timeout_ms)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise InvalidInput("database_url", f"unsupported database {backend!r}", "use sqlite:///path or postgresql://")


def _lock_key(space: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for a name (PostgreSQL's ``bigint``)."""
    digest = hashlib.blake2b(f"fillpath:{space}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _trading_lock(db: Path, who: str) -> Any:
    """An exclusive ``flock`` on ``<db>.trading``, held open for the process: a second trading process on the same
    SQLite journal is refused by name (it would allocate the same nonces and claim the same intents)."""
    import fcntl

    path = db.expanduser().with_name(db.name + ".trading")
    fh = open(path, "a+")  # noqa: SIM115 - held until close(): the lock lives as long as the file is open
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise Halted(
            f"{holder} is trading on this SQLite journal ({db}); one trading process per SQLite journal: wait for it "
            "to finish, send the command to its service, or use PostgreSQL for several engines (docs/deployment.md)"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()} ({who})\n")
    fh.flush()
    return fh


def _journal_row(rec: Recorded) -> dict[str, Any]:
    payload = json.dumps(event_to_payload(rec.event), sort_keys=True, separators=(",", ":"))
    return {
        "seq": rec.seq,
        "recv_ns": rec.recv_ns,
        "venue_ts": rec.venue_ts,
        "venue": rec.event.venue,
        "kind": rec.event.kind,
        "payload": payload,
    }


def _recorded(row: Any) -> Recorded:
    event = event_from_payload(row.kind, json.loads(row.payload))
    return Recorded(row.seq, row.recv_ns, row.venue_ts, event)


def _checked_upgrade(
    engine: Engine, url: str, path: Path | None, home: JournalHome | None, marker: Marker | None, *, existed: bool
) -> str | None:
    """Steps 1-4 of ``state/identity.py``; returns the journal's id."""
    from fillpath.state.migrate import HEAD_REVISION, stamped_revision

    sqlite = path is not None
    at = str(path) if path is not None else identity.where(url)
    try:
        if path is not None and existed:
            problems = identity.quick_check(engine)
            if problems:
                raise DamagedState(at, f"the journal is damaged: {problems[0]}", identity.restore_hint(home))
        if existed and stamped_revision(engine) == HEAD_REVISION:  # the usual case: nothing to migrate (no alembic)
            head, journal_id = HEAD_REVISION, identity.journal_id(engine)
        else:
            head, journal_id = _migrate(engine, at, path, home, marker, sqlite=sqlite)
    except DBAPIError as exc:
        if not sqlite:
            raise Retryable(f"{at}: the database cannot be used now: {identity.describe_error(exc)}") from None
        problem = f"the journal cannot be read: {identity.describe_error(exc)}"
        raise DamagedState(at, problem, identity.restore_hint(home)) from None
    if marker is not None and journal_id != marker.journal_id:
        problem = f"holds journal {journal_id}, but this data directory's journal here is {marker.journal_id}"
        raise DamagedState(at, problem, identity.restore_hint(home, sqlite=sqlite))
    if home is not None and journal_id is not None:
        new = Marker(journal_id, head, identity.key(url))
        if new != marker:
            identity.write_marker(home, new)
    return journal_id


def _migrate(
    engine: Engine, at: str, path: Path | None, home: JournalHome | None, marker: Marker | None, *, sqlite: bool
) -> tuple[str, str | None]:
    """A journal that is new or not at this version's head: refused if it is another application's or a newer
    fillpath's, backed up before a migration, then migrated. Returns the head and the journal's id."""
    from fillpath.state.migrate import current_revision, head_revision, known_revisions, upgrade

    rev = current_revision(engine)
    head = head_revision()
    if rev is None:
        if marker is not None:
            problem = f"holds no journal, but this data directory's journal {marker.journal_id} was there"
            raise DamagedState(at, problem, identity.restore_hint(home, sqlite=sqlite))
        others = identity.foreign_tables(engine)
        if others:
            shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
            fix = "give fillpath a database of its own (database_url)"
            raise InvalidInput(at, f"holds another application's tables ({shown}), not a fillpath journal", fix)
    elif rev not in known_revisions():
        fix = "upgrade fillpath, or restore a backup made by this version"
        raise InvalidInput(at, f"the journal's schema {rev} is newer than this fillpath knows ({head})", fix)
    elif rev != head and path is not None and home is not None:
        identity.backup_sqlite(path, home.backups / identity.backup_name(f"before-{head}"))
    upgrade(engine)
    return head, identity.journal_id(engine)


class Store:
    """Open with :meth:`open`; close with :meth:`close` (or use it as a context manager).

    Reads (``orders()``, ``balance()``, …) come from memory and reflect every append made through this
    object, and every append by other processes up to this object's last append or :meth:`refresh`.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: ClockTracker | None = None,
        writer_lock: Any = None,
        owner: str | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self._engine = engine
        self._writer_lock = writer_lock
        self.owner = owner
        """This process's name as the owner of the intents it creates (a trading store), else None."""
        self._locks: Connection | None = None  # PostgreSQL: the session holding our advisory locks
        self._leading: set[str] = set()
        self._clock = clock
        self._clock_ns = clock_ns
        """Our receive time for an append that names none (a simulation's virtual clock; the wall clock otherwise)."""
        self._writer = RowWriter(engine.dialect)
        self._lock = threading.RLock()
        self._stale = False
        head = tables.journal_head
        # Statements built once: SQLAlchemy's statement construction costs more than SQLite's execution. The
        # append path runs them precompiled on the driver's cursor (see prepared.py); the rest uses SQLAlchemy.
        self._lock_head_stmt = select(head.c.last_seq).where(head.c.id == 1).with_for_update()
        dialect = engine.dialect
        self._lock_head_sql = Prepared(self._lock_head_stmt, dialect)
        self._insert_journal = Prepared(insert(tables.journal), dialect)
        self._bump_head = Prepared(
            update(head).where(head.c.id == 1).values(last_seq=bindparam("new_last_seq")), dialect
        )
        self._proj = self._load()
        self.journal_id: str | None = None
        """This journal's id (``journal_identity``), set by :meth:`open`."""

    @classmethod
    def open(
        cls,
        url: str,
        *,
        clock: ClockTracker | None = None,
        sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL",
        home: JournalHome | None = None,
        trading: str | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> Store:
        """Check the journal (``state/identity.py``), back it up if its schema is old, migrate it to head, and load
        the projections into memory.

        ``trading``: this process trades (allocates nonces, owns intents), described for the message another
        process gets. On SQLite only one trading process may hold the journal (a lock file beside it, released
        when the process ends, however it ends); PostgreSQL serves several (see docs/deployment.md).

        With ``home`` (the data directory's marker and backups) a missing, emptied, damaged or swapped journal is
        refused with ``DamagedState``; without it (tests, tools) the file checks still run and a journal is
        created where there is none."""
        path = identity.sqlite_path(url)
        marker = identity.read_marker(home, url) if home is not None else None
        created = False
        if path is not None and not identity.check_sqlite_file(path, home, marker):
            make_engine(url, sqlite_synchronous=sqlite_synchronous).dispose()  # refuses a bad URL before creating
            identity.create_private(path)
            created = True
        engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
        lock = None
        try:
            if trading is not None and path is not None:
                lock = _trading_lock(path, trading)
            journal_id = _checked_upgrade(engine, url, path, home, marker, existed=not created)
            owner = None if trading is None else f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
            store = cls(engine, clock=clock, writer_lock=lock, owner=owner, clock_ns=clock_ns)
            if owner is not None:
                store._hold(_lock_key("owner", owner))  # alive while this lock is held (PostgreSQL)
        except BaseException:
            if lock is not None:
                lock.close()
            engine.dispose()
            if created and path is not None:  # a journal that never came to be leaves no empty file behind
                for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    p.unlink(missing_ok=True)
            raise
        store.journal_id = journal_id
        if path is not None:
            identity.narrow(path)
        return store

    def close(self) -> None:
        if self._locks is not None:
            with contextlib.suppress(Exception):
                self._locks.close()  # the session ends: its advisory locks with it
            self._locks = None
        self._engine.dispose()
        if self._writer_lock is not None:
            self._writer_lock.close()
            self._writer_lock = None

    # --- several processes ---------------------------------------------------------------------------------

    @property
    def shared(self) -> bool:
        """Several trading processes may use this journal (PostgreSQL); SQLite admits one (``trading``)."""
        return self._engine.dialect.name == "postgresql"

    def _hold(self, key: int) -> bool:
        """Take a session-level advisory lock on the store's own connection, without waiting (PostgreSQL)."""
        if not self.shared:
            return True
        if self._locks is None:
            self._locks = self._engine.connect()
        got = bool(self._locks.execute(select(func.pg_try_advisory_lock(key))).scalar())
        self._locks.commit()  # session locks outlive the transaction; do not keep one open
        return got

    def owner_alive(self, owner: str | None) -> bool:
        """Whether the process that owns an intent still runs. On PostgreSQL it holds an advisory lock for as long
        as its session lives; on SQLite only one trading process holds the journal, so any other owner is gone."""
        if owner is None:
            return False
        if owner == self.owner:
            return True
        if not self.shared:
            return False
        key = _lock_key("owner", owner)
        with self._engine.connect() as conn:
            got = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
            if got:
                conn.execute(select(func.pg_advisory_unlock(key)))
            conn.commit()
        return not got

    def try_lead(self, role: str) -> bool:
        """Become the one process doing ``role`` (``reconcile:lab1``) while this store lives, if no live process
        is; the lock passes on when its holder's session ends (a crash included). Always true on SQLite."""
        if role in self._leading:
            return True
        journal = self.journal_id or self._engine.url.render_as_string(hide_password=True)
        if self._hold(_lock_key("lead", f"{journal}:{role}")):  # per journal: several may share one database
            self._leading.add(role)
            return True
        return False

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        return self._engine

    # --- writing ------------------------------------------------------------------------------------------

    def append(self, event: Event, *, recv_ns: int | None = None, venue_ts: int | None = None) -> int:
        """Record ``event``; return its seq. A fill already held (same venue and trade id) is not recorded
        again: the seq of the first is returned."""
        return self.append_many((event,), recv_ns=recv_ns, venue_ts=venue_ts)[0]

    def append_many(
        self, events: Iterable[Event], *, recv_ns: int | None = None, venue_ts: int | None = None
    ) -> list[int]:
        """Record ``events`` in one transaction, all or none; they share ``recv_ns`` and ``venue_ts``."""
        batch = list(events)
        if not batch:
            return []
        stamp = self._clock_ns() if recv_ns is None else recv_ns
        with self._lock:
            seqs: list[int] = []
            rows: list[dict[str, Any]] = []
            try:
                with self._engine.begin() as conn:
                    head = self._lock_head(conn)
                    seqs, rows, touched = self._stage(batch, head, stamp, venue_ts)
                    if rows:
                        self._insert_journal.many(conn, rows)
                        self._writer.write(conn, self._proj, touched)
                        self._bump_head.many(conn, ({"new_last_seq": self._proj.last_seq},))
            except DBAPIError as exc:
                # The database failed us, perhaps during COMMIT: whether the rows landed is unknown until
                # we look. Look under the head lock, so a commit still in flight has finished first.
                landed = self._landed(rows) if rows else False
                self._recover()
                if landed is None:
                    raise Ambiguous(
                        "the database failed during an append and cannot be read now: the events may or may "
                        "not be recorded; read store.events() once it is back, before appending them again"
                    ) from exc
                if not landed:
                    raise
            except BaseException:
                self._recover()
                raise
        return seqs

    def _landed(self, rows: list[dict[str, Any]]) -> bool | None:
        """Whether exactly these journal rows are committed; None if the database cannot tell us now."""
        j = tables.journal
        try:
            with self._engine.begin() as conn:
                conn.execute(self._lock_head_stmt)
                found = conn.execute(
                    select(j).where(j.c.seq >= rows[0]["seq"], j.c.seq <= rows[-1]["seq"]).order_by(j.c.seq)
                ).all()
        except DBAPIError:
            return None
        return [dict(r._mapping) for r in found] == rows

    def _recover(self) -> None:
        """After a failed write the cache may hold effects of a rolled-back (or unknown) commit: reread it,
        or, if the database cannot be read either, reread it under the head lock of the next write."""
        try:
            self._proj.replace_with(self._load())
            self._stale = False
        except Exception:
            self._stale = True

    def _lock_head(self, conn: Connection) -> int:
        """Lock the head row, then bring the cache up to it (another process may have appended)."""
        head: int = self._lock_head_sql.one(conn)[0]
        if self._stale:
            self._proj.replace_with(self._writer.load(conn, head))
            self._stale = False
        elif head != self._proj.last_seq:
            for rec in self._read_journal(conn, self._proj.last_seq, head):
                self._proj.apply(rec)
        return head

    def _stage(
        self, batch: list[Event], head: int, recv_ns: int, venue_ts: int | None
    ) -> tuple[list[int], list[dict[str, Any]], list[Touched]]:
        proj = self._proj
        seqs: list[int] = []
        rows: list[dict[str, Any]] = []
        touched: list[Touched] = []
        seq = head
        for ev in batch:
            if not isinstance(ev, Event):
                raise InvalidInput("event", f"{ev!r} is not an Event")
            dup = proj.duplicate_of(ev)
            if dup is not None:
                seqs.append(dup)
                continue
            if isinstance(ev, IntentCreated) and ev.owner is None and self.owner is not None:
                ev = dataclasses.replace(ev, owner=self.owner)  # the intent belongs to this process
            proj.check(ev)
            seq += 1
            rec = Recorded(seq, recv_ns, venue_ts, ev)
            touched += proj.apply(rec)
            rows.append(_journal_row(rec))
            seqs.append(seq)
            if venue_ts is not None and self._clock is not None:
                divergence = self._clock.observe(ev.venue, venue_ts, recv_ns)
                if divergence is not None:
                    seq += 1
                    extra = Recorded(seq, recv_ns, venue_ts, divergence)
                    touched += proj.apply(extra)
                    rows.append(_journal_row(extra))
        return seqs, rows, touched

    def rebuild_projections(self) -> None:
        """Empty the projection tables and replay the whole journal into them, in one transaction."""
        with self._lock:
            try:
                with self._engine.begin() as conn:
                    head = conn.execute(self._lock_head_stmt).scalar_one()
                    for table in tables.PROJECTION_TABLES:
                        conn.execute(delete(table))
                    proj = Projections()
                    for rec in self._read_journal(conn, 0, head):
                        proj.apply(rec)
                    self._writer.write_all(conn, proj)
                self._proj.replace_with(proj)
            except BaseException:
                self._recover()
                raise

    # --- reading the database -----------------------------------------------------------------------------

    def _read(self) -> Connection:
        return self._engine.connect().execution_options(**{_READ_ONLY: True})

    def _load(self) -> Projections:
        with self._read() as conn, conn.begin():
            head = conn.execute(select(tables.journal_head.c.last_seq)).scalar_one()
            return self._writer.load(conn, head)

    def load_projections(self) -> Projections:
        """The projections as the tables hold them (a database read; the hot path uses the cache)."""
        return self._load()

    def replay(self) -> Projections:
        """The projections the journal implies, folded afresh (a database read of the whole journal)."""
        proj = Projections()
        for rec in self.events():
            proj.apply(rec)
        return proj

    def refresh(self) -> int:
        """Catch the cache up with appends made by other processes; return the last seq."""
        with self._lock, self._read() as conn, conn.begin():
            head = conn.execute(select(tables.journal_head.c.last_seq)).scalar_one()
            for rec in self._read_journal(conn, self._proj.last_seq, head):
                self._proj.apply(rec)
            return self._proj.last_seq

    def _read_journal(self, conn: Connection, after: int, upto: int) -> Iterator[Recorded]:
        j = tables.journal
        while after < upto:
            page = conn.execute(select(j).where(j.c.seq > after, j.c.seq <= upto).order_by(j.c.seq).limit(_PAGE)).all()
            if not page:
                return
            for row in page:
                yield _recorded(row)
            after = page[-1].seq

    def events(
        self, after_seq: int = 0, *, limit: int | None = None, kind: str | None = None, venue: str | None = None
    ) -> Iterator[Recorded]:
        """Journal entries with seq > ``after_seq``, in seq order, read in pages (no long transaction); only those of
        one ``kind`` and/or ``venue`` if given (selected by the database, not decoded and dropped here)."""
        j = tables.journal
        where = [j.c.kind == kind] if kind is not None else []
        where += [j.c.venue == venue] if venue is not None else []
        remaining = limit
        while remaining is None or remaining > 0:
            size = _PAGE if remaining is None else min(_PAGE, remaining)
            with self._read() as conn, conn.begin():
                query = select(j).where(j.c.seq > after_seq, *where).order_by(j.c.seq).limit(size)
                page = conn.execute(query).all()
            for row in page:
                yield _recorded(row)
            if len(page) < size:
                return
            after_seq = page[-1].seq
            if remaining is not None:
                remaining -= len(page)

    def verify(self) -> list[str]:
        """Problems with the stored state (empty if none): seq gaps, a head that disagrees with the journal,
        projection tables that differ from a replay of the journal. For start-up after a crash, and tests."""
        problems: list[str] = []
        j = tables.journal
        with self._read() as conn, conn.begin():
            head = conn.execute(select(tables.journal_head.c.last_seq)).scalar_one()
            count, low, high = conn.execute(select(func.count(), func.min(j.c.seq), func.max(j.c.seq))).one()
        if count != head or (count and (low != 1 or high != head)):
            problems.append(f"journal holds {count} entries, seqs {low}..{high}, but the head says {head}")
        stored, replayed = self.load_projections(), self.replay()
        if stored != replayed:
            problems.append("projection tables differ from a replay of the journal")
        return problems

    # --- reading the cache (no database access) -----------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self._proj.last_seq

    def projections(self) -> Projections:
        """A copy of the in-memory projections (records are frozen, so a shallow copy is a snapshot)."""
        return self._proj.copy()

    def orders(self) -> Mapping[tuple[str, str], OrderRecord]:
        """Keyed by ``(venue, client_order_id)``; a live read-only view."""
        return MappingProxyType(self._proj.orders)

    def order(self, venue: str, client_order_id: str) -> OrderRecord | None:
        return self._proj.orders.get((venue, client_order_id))

    def fills(self) -> Mapping[tuple[str, str], FillRecord]:
        """Keyed by ``(venue, trade_id)``; a live read-only view."""
        return MappingProxyType(self._proj.fills)

    def transactions(self) -> Mapping[tuple[str, str], TxRecord]:
        return MappingProxyType(self._proj.transactions)

    def transaction(self, venue: str, tx_hash: str) -> TxRecord | None:
        return self._proj.transactions.get((venue, tx_hash))

    def intents(self) -> Mapping[str, IntentRecord]:
        return MappingProxyType(self._proj.intents)

    def intent(self, intent_id: str) -> IntentRecord | None:
        return self._proj.intents.get(intent_id)

    def transfers(self) -> Mapping[str, TransferRecord]:
        """Transfers between locations by transfer (intent) id; a live read-only view."""
        return MappingProxyType(self._proj.transfers)

    def transfer(self, transfer_id: str) -> TransferRecord | None:
        return self._proj.transfers.get(transfer_id)

    def next_nonce(self, venue: str, address: str) -> int | None:
        rec = self._proj.nonces.get((venue, address))
        return None if rec is None else rec.next_nonce

    def balance(self, asset: AssetId) -> Amount | None:
        """Our holding of ``asset`` per the ledger, or None if it never moved."""
        rec = self._proj.ledger.get(asset)
        return None if rec is None else rec.amount

    def balances(self) -> dict[AssetId, Amount]:
        return {a: r.amount for a, r in self._proj.ledger.items()}

    def ledger(self) -> Mapping[AssetId, BalanceRecord]:
        """The ledger's rows (amount and the seq that last moved each); a live read-only view."""
        return MappingProxyType(self._proj.ledger)

    def promised(self, asset: AssetId) -> Amount:
        """What open intents will spend of ``asset`` (``Projections.open_inputs``): held, but not available."""
        return self._proj.open_inputs().get(asset, 0)

    def venue_flag(self, venue: str) -> VenueFlag:
        return self._proj.venue_flags.get(venue) or VenueFlag(venue, False, False, None, 0)
