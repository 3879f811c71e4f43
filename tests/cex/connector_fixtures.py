"""Fixtures for the connector tests: our connector on ccxt's class of the simulated exchange (its dialect found
by ccxt id, as the factory does), and a real Store on SQLite in the test's tmp dir. Import the fixtures by name
into a test module or a conftest."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from simkit import Sim

from fillpath.cex.connector import CcxtConnector
from fillpath.cex.factory import dialect_for
from fillpath.cex.order_driver import OrderDriver, ResolvePolicy
from fillpath.model.events import Recorded
from fillpath.state.clock import ClockTracker
from fillpath.state.store import Store

LOCATION = "venue"
FAST = ResolvePolicy(grace_s=0.3, first_delay_s=0.02, backoff=2.0, max_delay_s=0.2, max_polls=15)


@pytest.fixture
async def make_connector(sim: Sim, make_exchange: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    made: list[CcxtConnector] = []

    async def make(*, journal: Any = None, pro: bool = False, **config: Any) -> CcxtConnector:
        dialect, _ = dialect_for(sim.dialect)
        exchange = make_exchange(pro=pro, **config)
        conn = CcxtConnector(exchange, location=LOCATION, journal=journal, dialect=dialect)
        await conn.load_markets()
        made.append(conn)
        return conn

    yield make
    for conn in made:
        await conn.limiter.close()  # make_exchange closes the ccxt clients


@pytest.fixture
async def connector(make_connector: Callable[..., Any]) -> CcxtConnector:
    conn: CcxtConnector = await make_connector()
    return conn


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path}/x.db", clock=ClockTracker(2_000_000_000)) as s:
        yield s


@pytest.fixture
def driver(connector: CcxtConnector, store: Store) -> OrderDriver:
    connector.journal = store
    return OrderDriver(connector, store, policy=FAST)


def timeline(store: Store, client_order_id: str | None = None) -> list[Recorded]:
    """The journal (for one order, or all), checked to be in local order: seq gap-free, receipt times
    non-decreasing. Venue time sits beside them and may run any way."""
    recs = list(store.events())
    assert [r.seq for r in recs] == list(range(1, len(recs) + 1))
    assert all(a.recv_ns <= b.recv_ns for a, b in itertools.pairwise(recs))
    if client_order_id is None:
        return recs
    return [r for r in recs if getattr(r.event, "client_order_id", None) == client_order_id]
