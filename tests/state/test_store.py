"""The store on both backends: append and read, seq, dedupe, exact amounts, batches, reopen, rebuild."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import OperationalError

from fillpath.model.amounts import UINT256_MAX
from fillpath.model.assets import AssetId
from fillpath.model.errors import Ambiguous, Conflict, InvalidInput
from fillpath.model.events import (
    BalanceAdjusted,
    ClockDivergence,
    ClockProblem,
    IntentCreated,
    IntentOutcome,
    IntentResolved,
    NonceAllocated,
    OrderAccepted,
    OrderFilled,
    OrderPartiallyFilled,
    OrderSubmitted,
    Recorded,
    TxBroadcast,
    TxMined,
    TxReorged,
    VenueDegraded,
    VenueHalted,
    VenueResumed,
)
from fillpath.model.orders import OrderState
from fillpath.model.sides import Side
from fillpath.state import tables
from fillpath.state.clock import ClockTracker
from fillpath.state.records import IntentStatus, TxStatus
from fillpath.state.store import Store
from tests.state.helpers import exact

WETH = AssetId("WETH", "lab1")
USDT = AssetId("USDT", "binance")


def _submitted(coid: str = "c1", qty: str = "2") -> OrderSubmitted:
    return OrderSubmitted("binance", coid, "ETH/USDT", Side.BUY, Decimal(qty), Decimal("2000.50"), "i1")


def test_append_returns_gap_free_seqs_and_events_reads_them_back(store: Store) -> None:
    first = store.append(_submitted(), recv_ns=111, venue_ts=100)
    batch = store.append_many([OrderAccepted("binance", "c1", "v9"), VenueDegraded("binance", "slow")])
    last = store.append(TxBroadcast("lab1", "0xaa", "0x01", 7))
    assert [first, *batch, last] == [1, 2, 3, 4]
    assert store.last_seq == 4
    read = list(store.events())
    assert [r.seq for r in read] == [1, 2, 3, 4]
    assert read[0] == Recorded(1, 111, 100, _submitted())
    assert read[1].venue_ts is None
    assert read[1].recv_ns == read[2].recv_ns
    assert [r.seq for r in store.events(after_seq=2)] == [3, 4]
    assert [r.seq for r in store.events(after_seq=0, limit=3)] == [1, 2, 3]
    # filtered by the database: one kind, one venue, both, with the paging bounds still applied
    assert [r.seq for r in store.events(kind="venue.degraded")] == [3]
    assert [r.seq for r in store.events(venue="binance")] == [1, 2, 3]
    assert [r.seq for r in store.events(venue="binance", kind="order.accepted")] == [2]
    assert [r.seq for r in store.events(venue="lab1", kind="order.accepted")] == []
    assert [r.seq for r in store.events(after_seq=1, venue="binance", limit=1)] == [2]


def test_order_projection_follows_the_events(store: Store) -> None:
    store.append_many([_submitted(), OrderAccepted("binance", "c1", "v9")])
    store.append(OrderPartiallyFilled("binance", "c1", "t1", Decimal("0.5"), Decimal("2000")))
    order = store.order("binance", "c1")
    assert order is not None
    assert (order.status, order.venue_order_id, order.filled_qty) == (
        OrderState.PARTIALLY_FILLED,
        "v9",
        Decimal("0.5"),
    )
    store.append(OrderFilled("binance", "c1", "t2", Decimal("1.5"), Decimal("2000")))
    order = store.order("binance", "c1")
    assert order is not None
    assert order.status is OrderState.FILLED
    assert order.filled_qty == Decimal("2.0")
    assert set(store.orders()) == {("binance", "c1")}


def test_duplicate_fill_is_recorded_once(store: Store) -> None:
    store.append(_submitted())
    fill = OrderPartiallyFilled("binance", "c1", "t1", Decimal("0.5"), Decimal("2000"))
    seq = store.append(fill)
    assert store.append(fill) == seq
    # A repeat inside one batch, and a repeat that differs in what it claims, are still the same trade.
    seqs = store.append_many([fill, OrderFilled("binance", "c1", "t1", Decimal("9"), Decimal("1"))])
    assert seqs == [seq, seq]
    assert store.last_seq == seq
    order = store.order("binance", "c1")
    assert order is not None
    assert order.filled_qty == Decimal("0.5")
    assert len(store.fills()) == 1
    reopened = Store(store.engine)
    assert reopened.append(fill) == seq
    assert reopened.last_seq == seq
    with store.engine.connect() as conn:
        assert conn.execute(select(tables.fills)).all()[0].seq == seq


def test_uint256_round_trips_through_ledger_intents_and_journal(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.append_many(
            [
                BalanceAdjusted("lab1", WETH, UINT256_MAX, "deposit"),
                IntentCreated("lab1", "i1", "swap", asset_in=WETH, amount_in=UINT256_MAX, min_out=UINT256_MAX),
            ]
        )
        assert store.balance(WETH) == UINT256_MAX
    with Store.open(store_url) as store:  # from the database, not the cache
        assert store.balance(WETH) == UINT256_MAX
        assert type(store.balance(WETH)) is int
        intent = store.intent("i1")
        assert intent is not None
        assert intent.amount_in == UINT256_MAX
        assert intent.min_out == UINT256_MAX
        assert next(r.event for r in store.events()) == BalanceAdjusted("lab1", WETH, UINT256_MAX, "deposit")
        store.append(BalanceAdjusted("lab1", WETH, -UINT256_MAX, "withdrawal"))
        store.append(BalanceAdjusted("lab1", WETH, -UINT256_MAX, "overdraft (drift)"))
    with Store.open(store_url) as store:
        assert store.balance(WETH) == -UINT256_MAX


def test_decimal_balances_keep_every_digit_and_their_exponent(store_url: str) -> None:
    deltas = [
        Decimal("0.000000000000000000000000000001"),
        Decimal("123456789012345678901234567890"),
        Decimal("1E+3"),
    ]
    with Store.open(store_url) as store:
        store.append_many([BalanceAdjusted("binance", USDT, d, "fill") for d in deltas])
        cached = store.balance(USDT)
    with Store.open(store_url) as store:
        stored = store.balance(USDT)
    assert cached == stored == Decimal("123456789012345678901234568890.000000000000000000000000000001")
    assert str(stored) == str(cached)


def test_a_batch_is_all_or_nothing(store: Store) -> None:
    store.append(BalanceAdjusted("lab1", WETH, 5, "deposit"))
    view = store.orders()
    before = exact(store.projections())
    with pytest.raises(InvalidInput, match="kept in int"):
        store.append_many([_submitted(), BalanceAdjusted("lab1", WETH, Decimal("1.5"), "wrong unit")])
    assert store.last_seq == 1
    assert exact(store.projections()) == before == exact(store.load_projections())
    assert [r.seq for r in store.events()] == [1]
    assert store.append(_submitted()) == 2  # no gap after the refusal
    assert ("binance", "c1") in view  # views handed out before the failure are still live


def test_intents_nonces_transactions_and_flags(store: Store) -> None:
    store.append(IntentCreated("lab1", "i1", "swap", ref="0xaa", asset_in=WETH, amount_in=10, deadline_ns=5))
    intent = store.intent("i1")
    assert intent is not None
    assert intent.status is IntentStatus.OPEN
    store.append_many(
        [
            NonceAllocated("lab1", "0x01", 7),
            TxBroadcast("lab1", "0xaa", "0x01", 7, "i1"),
            TxMined("lab1", "0xaa", 100, "0xb1"),
        ]
    )
    assert store.next_nonce("lab1", "0x01") == 8
    before = store.last_seq  # a nonce below the book's next one was handed out already: refused, nothing written
    with pytest.raises(Conflict, match="nonce 3 of 0x01 is taken"):
        store.append_many([IntentCreated("lab1", "i2", "swap"), NonceAllocated("lab1", "0x01", 3)])
    assert store.last_seq == before and store.intent("i2") is None and store.next_nonce("lab1", "0x01") == 8
    tx = store.transaction("lab1", "0xaa")
    assert tx is not None
    assert (tx.status, tx.block_number) == (TxStatus.MINED, 100)
    store.append(TxReorged("lab1", "0xaa", 100))
    tx = store.transaction("lab1", "0xaa")
    assert tx is not None
    assert (tx.status, tx.block_number) == (TxStatus.REORGED, None)
    store.append(IntentResolved("lab1", "i1", IntentOutcome.GOOD))
    intent = store.intent("i1")
    assert intent is not None
    assert intent.status is IntentStatus.GOOD
    assert not store.venue_flag("binance").halted
    store.append_many([VenueDegraded("binance", "slow"), VenueHalted("binance", "errors")])
    flag = store.venue_flag("binance")
    assert flag.halted
    assert flag.degraded
    assert flag.reason == "errors"
    store.append(VenueResumed("binance"))
    flag = store.venue_flag("binance")
    assert not flag.halted
    assert not flag.degraded


def test_reopening_loads_the_same_projections(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.append_many(
            [
                _submitted(),
                OrderFilled("binance", "c1", "t1", Decimal("2"), Decimal("1999.5"), Decimal("0.01"), "USDT"),
                BalanceAdjusted("binance", USDT, Decimal("-3999.01"), "fill"),
                TxBroadcast("lab1", "0xaa", "0x01", 0),
                VenueHalted("kraken", "maintenance"),
                IntentCreated("binance", "i1", "submit_order", min_out=Decimal("5")),
            ]
        )
        cached = exact(store.projections())
    with Store.open(store_url) as store:
        assert exact(store.projections()) == cached
        assert store.verify() == []


def test_rebuild_gives_identical_projections(store: Store) -> None:
    store.append_many([_submitted(), OrderAccepted("binance", "c1", "v1"), VenueDegraded("lab1", "lag")])
    store.append(OrderPartiallyFilled("binance", "c1", "t1", Decimal("1"), Decimal("2")))
    store.append(BalanceAdjusted("lab1", WETH, 10**30, "deposit"))
    before = exact(store.load_projections())
    assert exact(store.projections()) == before
    view = store.orders()
    store.rebuild_projections()
    assert exact(store.load_projections()) == before
    assert exact(store.projections()) == before
    assert view == store.orders()


def test_verify_notices_a_projection_that_disagrees_with_the_journal(store: Store) -> None:
    store.append(BalanceAdjusted("lab1", WETH, 10, "deposit"))
    with store.engine.begin() as conn:
        conn.execute(tables.ledger.update().values(base_units=11))
    assert store.verify() == ["projection tables differ from a replay of the journal"]
    store.rebuild_projections()
    assert store.verify() == []
    assert store.balance(WETH) == 10


def test_another_writer_is_caught_up_on_append_and_refresh(store_url: str) -> None:
    with Store.open(store_url) as a, Store.open(store_url) as b:
        a.append(BalanceAdjusted("lab1", WETH, 5, "deposit"))
        assert b.balance(WETH) is None  # b has not looked yet
        assert b.append(BalanceAdjusted("lab1", WETH, 2, "deposit")) == 2
        assert b.balance(WETH) == 7
        assert a.refresh() == 2
        assert a.balance(WETH) == 7
        fill = OrderFilled("binance", "c1", "t1", Decimal(1), Decimal(1))
        seq = a.append(fill)
        assert b.append(fill) == seq  # b had not seen the fill, but checks under the lock
        assert len(b.fills()) == 1
        assert a.verify() == []


def test_store_records_clock_divergence_after_the_event(store_url: str) -> None:
    second = 1_000_000_000
    with Store.open(store_url, clock=ClockTracker(bound_ns=2 * second)) as store:
        store.append(VenueDegraded("binance", "x"), recv_ns=10 * second, venue_ts=10 * second)
        seq = store.append(VenueDegraded("binance", "y"), recv_ns=11 * second, venue_ts=9 * second)
        entries = list(store.events(after_seq=seq - 1))
        assert [type(e.event) for e in entries] == [VenueDegraded, ClockDivergence]
        divergence = entries[1].event
        assert isinstance(divergence, ClockDivergence)
        assert divergence.problem is ClockProblem.BACKWARDS
        assert entries[1].seq == seq + 1


def test_schema_matches_the_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert diff == []
    versions = Path(tables.__file__).with_name("migrations") / "versions"
    assert version == max(f.name.split("_")[0] for f in versions.glob("0*.py"))  # at the newest migration


def test_sqlite_runs_in_wal_with_full_sync(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_refuses_urls_it_cannot_keep_durable() -> None:
    with pytest.raises(InvalidInput, match="in-memory"):
        Store.open("sqlite://")
    with pytest.raises(InvalidInput, match="unsupported"):
        Store.open("mysql://x@localhost/db")


def test_a_write_that_fails_midway_leaves_no_trace(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.append(BalanceAdjusted("lab1", WETH, 5, "deposit"))
    before = exact(store.projections())

    def disk_on_fire(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store._writer, "write", disk_on_fire)  # fails after the journal insert
    with pytest.raises(RuntimeError):
        store.append(BalanceAdjusted("lab1", WETH, 3, "deposit"))
    assert exact(store.projections()) == before  # reread from the database
    monkeypatch.setattr(store, "_load", disk_on_fire)  # and now the reread fails too
    with pytest.raises(RuntimeError):
        store.append(BalanceAdjusted("lab1", WETH, 3, "deposit"))
    monkeypatch.undo()
    assert store.append(BalanceAdjusted("lab1", WETH, 1, "deposit")) == 2
    assert store.balance(WETH) == 6
    assert store.verify() == []


def _lose_the_reply(store: Store, monkeypatch: pytest.MonkeyPatch, *, times: int, committed: bool) -> None:
    """The next ``times`` transactions fail with a lost connection, after COMMIT (``committed``) or before."""
    real_begin = store.engine.begin
    left = [times]

    @contextmanager
    def begin() -> Iterator[Connection]:
        if left[0] <= 0:
            with real_begin() as conn:
                yield conn
            return
        left[0] -= 1
        lost = OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
        with real_begin() as conn:
            yield conn
            if not committed:
                raise lost
        raise lost

    monkeypatch.setattr(store.engine, "begin", begin)


def test_a_commit_whose_reply_was_lost_is_resolved_by_looking(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _lose_the_reply(store, monkeypatch, times=1, committed=True)
    assert store.append(BalanceAdjusted("lab1", WETH, 5, "deposit")) == 1  # it landed: that is success
    assert store.balance(WETH) == 5
    _lose_the_reply(store, monkeypatch, times=1, committed=False)
    with pytest.raises(OperationalError):
        store.append(BalanceAdjusted("lab1", WETH, 7, "deposit"))  # it did not land: the error stands
    assert store.balance(WETH) == 5
    assert store.last_seq == 1


def test_a_commit_that_cannot_be_checked_is_ambiguous(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _lose_the_reply(store, monkeypatch, times=2, committed=True)  # the append, then the look
    with pytest.raises(Ambiguous):
        store.append(BalanceAdjusted("lab1", WETH, 5, "deposit"))
    monkeypatch.undo()
    assert [r.seq for r in store.events()] == [1]  # it had landed
    assert store.append(BalanceAdjusted("lab1", WETH, 1, "deposit")) == 2
    assert store.balance(WETH) == 6
    assert store.verify() == []


def test_one_trading_process_per_sqlite_journal(tmp_path: Path) -> None:
    """A second trading process would hand out the same nonces: SQLite refuses it by name; a reader is welcome."""
    url = f"sqlite:///{tmp_path / 'j.db'}"
    first = Store.open(url, trading="fillpath swap --execute")
    try:
        probe = ("import sys\nfrom fillpath.state.store import Store\nfrom fillpath.model.errors import Halted\n"
                 "try:\n    Store.open(sys.argv[1], trading='fillpath recover')\nexcept Halted as e:\n    print(e)\n"
                 "Store.open(sys.argv[1]).close()\nprint('reader ok')\n")  # fmt: skip
        out = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, timeout=60).stdout
        assert f"pid {os.getpid()} (fillpath swap --execute) is trading on this SQLite journal" in out
        assert "use PostgreSQL for several engines" in out and "reader ok" in out
    finally:
        first.close()
    Store.open(url, trading="fillpath recover").close()  # released with the first
