"""Comparing states exactly, and emptying a store between hypothesis examples."""

from __future__ import annotations

from sqlalchemy import delete, update

from fillpath.state import tables
from fillpath.state.projections import Projections
from fillpath.state.store import Store


def exact(p: Projections) -> dict[str, list[str]]:
    """Projections as sorted reprs: equal only if every value is identical, Decimal exponents included."""
    names = ("orders", "fills", "transactions", "intents", "nonces", "ledger", "venue_flags")
    state = {name: sorted(repr(v) for v in getattr(p, name).values()) for name in names}
    state["last_seq"] = [str(p.last_seq)]
    return state


def fresh(store: Store) -> Store:
    """Empty the store's database and return a new store on the same engine."""
    with store.engine.begin() as conn:
        for table in tables.PROJECTION_TABLES:
            conn.execute(delete(table))
        conn.execute(delete(tables.journal))
        conn.execute(update(tables.journal_head).values(last_seq=0))
    return Store(store.engine)
