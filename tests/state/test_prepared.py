"""Precompiled statements on the driver's cursor store what SQLAlchemy's ``execute`` stores, and fail the same way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from fillpath.model.assets import AssetId
from fillpath.state import tables
from fillpath.state.prepared import Prepared
from fillpath.state.store import Store

ROWS = [
    {"asset": AssetId("WETH", "lab1"), "base_units": 2**256 - 1, "quantity": None, "last_seq": 1},
    {"asset": AssetId("ETH", "labex"), "base_units": None, "quantity": Decimal("1.50E+3"), "last_seq": 1},
]


def _seed_journal(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(tables.journal), [{"seq": 1, "recv_ns": 1, "venue_ts": None, "venue": "v", "kind": "k",
                                               "payload": "{}"}])  # fmt: skip


def _raw_ledger(store: Store) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.exec_driver_sql("SELECT asset, base_units, quantity FROM ledger"))


def test_rows_are_stored_as_sqlalchemy_stores_them(store: Store) -> None:
    _seed_journal(store)
    with store.engine.begin() as conn:
        conn.execute(insert(tables.ledger), ROWS)
    by_sqlalchemy = _raw_ledger(store)
    with store.engine.begin() as conn:
        conn.execute(delete(tables.ledger))
        Prepared(insert(tables.ledger), store.engine.dialect).many(conn, ROWS)
    assert _raw_ledger(store) == by_sqlalchemy
    with store.engine.connect() as conn:
        back = {r.asset: (r.base_units, r.quantity) for r in conn.execute(select(tables.ledger))}
    assert back == {r["asset"]: (r["base_units"], r["quantity"]) for r in ROWS}
    assert str(back[AssetId("ETH", "labex")][1]) == "1.50E+3"  # every digit and the exponent


def test_a_fixed_parameter_is_kept_and_a_missing_one_is_refused(store: Store) -> None:
    head = tables.journal_head
    lock = Prepared(select(head.c.last_seq).where(head.c.id == 1), store.engine.dialect)
    with store.engine.begin() as conn:
        assert lock.one(conn) == (0,)
        with pytest.raises(ValueError, match="no value for 'recv_ns'"):
            Prepared(insert(tables.journal), store.engine.dialect).many(conn, [{"seq": 1}])
        with pytest.raises(LookupError, match="no row"):
            Prepared(select(head.c.last_seq).where(head.c.id == 2), store.engine.dialect).one(conn)


def test_a_driver_error_is_sqlalchemys_error_and_rolls_back(store: Store) -> None:
    _seed_journal(store)
    ins = Prepared(insert(tables.ledger), store.engine.dialect)
    with store.engine.begin() as conn:
        ins.many(conn, ROWS[:1])
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        ins.many(conn, ROWS)  # the first again (the same primary key), with a new one
    assert [r[0] for r in _raw_ledger(store)] == [str(ROWS[0]["asset"])]  # the batch rolled back whole
