"""Moving projection records between memory and the tables: write the rows an append touched, load all."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Dialect, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from fillpath.model.events import TransferKind
from fillpath.model.orders import OrderState
from fillpath.model.sides import Side
from fillpath.state import tables
from fillpath.state.prepared import Prepared
from fillpath.state.projections import Projections, TableName, Touched
from fillpath.state.records import (
    BalanceRecord,
    FillRecord,
    IntentRecord,
    IntentStatus,
    NonceRecord,
    OrderRecord,
    TransferRecord,
    TransferState,
    TxRecord,
    TxStatus,
    VenueFlag,
)

Row = dict[str, Any]


def _plain(record: object) -> Row:
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]


def _balance_row(r: BalanceRecord) -> Row:
    units = r.amount if isinstance(r.amount, int) else None
    qty = r.amount if isinstance(r.amount, Decimal) else None
    return {"asset": r.asset, "base_units": units, "quantity": qty, "last_seq": r.last_seq}


def _order_from(m: Mapping[str, Any]) -> OrderRecord:
    d = dict(m)
    d["status"] = OrderState(d["status"])
    d["side"] = None if d["side"] is None else Side(d["side"])
    return OrderRecord(**d)


def _tx_from(m: Mapping[str, Any]) -> TxRecord:
    d = dict(m)
    d["status"] = TxStatus(d["status"])
    return TxRecord(**d)


def _intent_from(m: Mapping[str, Any]) -> IntentRecord:
    d = dict(m)
    d["status"] = IntentStatus(d["status"])
    return IntentRecord(**d)


def _transfer_from(m: Mapping[str, Any]) -> TransferRecord:
    d = dict(m)
    d["state"] = TransferState(d["state"])
    d["transfer_kind"] = None if d["transfer_kind"] is None else TransferKind(d["transfer_kind"])
    return TransferRecord(**d)


def _balance_from(m: Mapping[str, Any]) -> BalanceRecord:
    amount = m["base_units"] if m["base_units"] is not None else m["quantity"]
    return BalanceRecord(m["asset"], amount, m["last_seq"])


class _Spec:
    def __init__(
        self, table: Table, to_row: Callable[[Any], Row], from_row: Callable[[Mapping[Any, Any]], Any]
    ) -> None:
        self.table = table
        self.to_row = to_row
        self.from_row = from_row
        self.key_columns = [c.name for c in table.primary_key.columns]


def _specs() -> dict[TableName, _Spec]:
    return {
        "orders": _Spec(tables.orders, _plain, _order_from),
        "fills": _Spec(tables.fills, _plain, lambda m: FillRecord(**m)),
        "transactions": _Spec(tables.transactions, _plain, _tx_from),
        "intents": _Spec(tables.intents, _plain, _intent_from),
        "nonces": _Spec(tables.nonces, _plain, lambda m: NonceRecord(**m)),
        "ledger": _Spec(tables.ledger, _balance_row, _balance_from),
        "venue_flags": _Spec(tables.venue_flags, _plain, lambda m: VenueFlag(**m)),
        "transfers": _Spec(tables.transfers, _plain, _transfer_from),
    }


def _key_of(name: TableName, record: Any) -> object:
    if name == "intents":
        return record.intent_id
    if name == "transfers":
        return record.transfer_id
    if name == "ledger":
        return record.asset
    if name == "venue_flags":
        return record.venue
    second = {
        "orders": "client_order_id",
        "fills": "trade_id",
        "transactions": "tx_hash",
        "nonces": "address",
    }
    return (record.venue, getattr(record, second[name]))


class RowWriter:
    """Upserts the rows an append touched, in the caller's transaction: one statement per table."""

    def __init__(self, dialect: Dialect) -> None:
        self._specs = _specs()
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        # Built and compiled once: constructing an upsert (``excluded`` aliases the table) costs more than running
        # it, and so does SQLAlchemy's execution of a compiled one (prepared.py).
        self._upserts: dict[TableName, Prepared] = {}
        for name, spec in self._specs.items():
            stmt = insert(spec.table)
            excluded = stmt.excluded
            updates = {c.name: excluded[c.name] for c in spec.table.columns if c.name not in spec.key_columns}
            upsert = stmt.on_conflict_do_update(index_elements=spec.key_columns, set_=updates)
            self._upserts[name] = Prepared(upsert, dialect)

    def write(self, conn: Connection, proj: Projections, touched: Iterable[Touched]) -> None:
        by_table: dict[TableName, dict[object, None]] = {}
        for name, key in touched:
            by_table.setdefault(name, {})[key] = None
        for name, keys in by_table.items():
            spec = self._specs[name]
            source: Mapping[Any, Any] = getattr(proj, name)
            self._upserts[name].many(conn, [spec.to_row(source[k]) for k in keys])

    def write_all(self, conn: Connection, proj: Projections) -> None:
        """Insert every row (after the tables were emptied, as in a rebuild)."""
        for name, spec in self._specs.items():
            source: Mapping[Any, Any] = getattr(proj, name)
            rows = [spec.to_row(r) for r in source.values()]
            if rows:
                conn.execute(spec.table.insert(), rows)

    def load(self, conn: Connection, last_seq: int) -> Projections:
        proj = Projections(last_seq=last_seq)
        for name, spec in self._specs.items():
            target: dict[Any, Any] = getattr(proj, name)
            for m in conn.execute(select(spec.table)).mappings():
                record = spec.from_row(m)
                target[_key_of(name, record)] = record
        return proj
