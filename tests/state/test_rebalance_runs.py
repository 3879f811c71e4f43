"""The book of rebalancing runs on both stores: a run id is claimed once, by exactly one of any number of racing
claimers (threads with their own connections, as processes would be), and every claim and end is journaled."""

from __future__ import annotations

import threading
from decimal import Decimal

from fillpath.model.events import RebalanceRunFinished, RebalanceRunStarted
from fillpath.state.rebalance_runs import RebalanceRuns
from fillpath.state.store import Store

NS = 1_000_000_000


def test_a_run_id_is_claimed_once_and_journaled(store: Store, store_url: str) -> None:
    runs = RebalanceRuns(store)
    assert runs.claim("spread@2026-12-07T10:00:00Z", "spread", 1796637600 * NS, "schedule", "pid 1")
    assert not runs.claim("spread@2026-12-07T10:00:00Z", "spread", 1796637600 * NS, "schedule", "pid 2")
    with Store.open(store_url) as other:  # another process's store on the same journal
        assert not RebalanceRuns(other).claim("spread@2026-12-07T10:00:00Z", "spread", None, "execute", "pid 3")
    runs.set_notional("spread@2026-12-07T10:00:00Z", Decimal("424000.5"))
    runs.finish("spread@2026-12-07T10:00:00Z", "done", notional=Decimal("424000.5"), moves=2)
    got = runs.get("spread@2026-12-07T10:00:00Z")
    assert got is not None and (got.status, got.moves, got.notional, got.owner) == ("done", 2, Decimal("424000.5"),
                                                                                  "pid 1")  # fmt: skip
    events = [r.event for r in store.events()]
    assert [type(e) for e in events] == [RebalanceRunStarted, RebalanceRunFinished]
    assert events[1] == RebalanceRunFinished("rebalance", "spread@2026-12-07T10:00:00Z", "spread", "done", "424000.5",
                                             2, "")  # fmt: skip


def test_racing_claimers_leave_exactly_one_winner(store: Store, store_url: str) -> None:
    wins: list[int] = []
    start = threading.Barrier(6)

    def claim(k: int) -> None:
        with Store.open(store_url) as mine:
            start.wait()
            if RebalanceRuns(mine).claim("p@slot", "p", 5 * NS, "schedule", f"pid {k}"):
                wins.append(k)

    threads = [threading.Thread(target=claim, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(wins) == 1
    store.refresh()
    assert sum(isinstance(r.event, RebalanceRunStarted) for r in store.events()) == 1


def test_history_missed_slots_and_the_daily_notional(store: Store) -> None:
    runs = RebalanceRuns(store)
    runs.claim("p@1", "p", 1 * NS, "schedule", "pid 1")
    runs.finish("p@1", "done", notional=Decimal(100), moves=1)
    runs.claim("p@2", "p", 2 * NS, "schedule", "pid 1")
    runs.set_notional("p@2", Decimal(50))  # died mid-run: still counted
    assert runs.record_missed("p@3", "p", 3 * NS, "pid 2")
    assert not runs.record_missed("p@3", "p", 3 * NS, "pid 2")
    runs.claim("q@1", "q", 1 * NS, "schedule", "pid 1")
    runs.finish("q@1", "done", notional=Decimal(7))
    assert [r.run_id for r in runs.history("p")] == ["p@3", "p@2", "p@1"]
    assert runs.get("p@3").status == "missed"  # type: ignore[union-attr]
    assert runs.last_slot("p") == 3 * NS and runs.last_slot("nobody") is None
    assert runs.notional_since("p", 0) == Decimal(150)
    assert [r.run_id for r in runs.running()] == ["p@2"]
