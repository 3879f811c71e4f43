"""Reconciliation decisions, on both store backends, and their idempotency as a property."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.model.events import BalanceAdjusted, DriftDetected, IntentCreated, VenueHalted
from fillpath.model.reports import BalanceReport
from fillpath.state.reconcile import Action, ReconcilePolicy, decide, events_for
from fillpath.state.reconciler import Reconciler
from fillpath.state.store import Store

USDC = AssetId("USDC", "lab1")
WETH = AssetId("WETH", "lab1")
ETH_X = AssetId("ETH", "labex")


class Reports:
    """A balance source whose reports the test sets."""

    def __init__(self, location: str, amounts: dict[AssetId, int | Decimal]) -> None:
        self.location = location
        self.amounts = amounts

    async def balances(self) -> list[BalanceReport]:
        return [BalanceReport(self.location, a, v) for a, v in self.amounts.items()]


def _pass(rec: Reconciler) -> list[str]:
    return [e.kind for r in asyncio.run(rec.run_once()) for e in r.events]


def test_decisions() -> None:
    reports = [BalanceReport("lab1", a, v) for a, v in ((USDC, 1_000_000), (WETH, 10**18))]
    policy = ReconcilePolicy(tolerance_bps=10)
    assert [f.action for f in decide(reports, {}, policy=policy)] == [Action.OPEN, Action.OPEN]
    assert [f.action for f in decide(reports, {USDC: 1_000_000, WETH: 10**18})] == [Action.OK, Action.OK]
    near = {USDC: 1_000_500, WETH: 10**18}  # 5 bps off
    assert decide(reports, near, policy=policy)[0].action is Action.ADJUST
    far = {USDC: 2_000_000, WETH: 10**18}
    assert decide(reports, far, policy=policy)[0].action is Action.HALT
    assert decide(reports, far, in_flight=[USDC], policy=policy)[0].action is Action.WAIT
    assert decide(reports, far, venue_busy=True, policy=policy)[0].action is Action.WAIT
    dusty = ReconcilePolicy(tolerance_bps=0, dust={"USDC": 1_000_000})
    assert decide(reports, far, policy=dusty)[0].action is Action.ADJUST


def test_tolerance_is_exact_at_uint256_scale() -> None:
    big = 2**255
    edge = big * 10 // 10_000  # exactly 10 bps of the larger side's... below it by the rounding of //
    reports = [BalanceReport("lab1", WETH, big + edge)]
    assert decide(reports, {WETH: big}, policy=ReconcilePolicy(tolerance_bps=10))[0].action is Action.ADJUST
    reports = [BalanceReport("lab1", WETH, big + 2 * edge)]
    assert decide(reports, {WETH: big}, policy=ReconcilePolicy(tolerance_bps=10))[0].action is Action.HALT


def test_a_full_cycle_on_the_store(store: Store) -> None:
    src = Reports("lab1", {USDC: 5_000_000, WETH: 3 * 10**18})
    rec = Reconciler(store, [src], ReconcilePolicy(tolerance_bps=10))
    assert _pass(rec) == ["balance.adjusted", "balance.adjusted"]  # opening balances
    assert _pass(rec) == []
    src.amounts[USDC] = 5_000_100  # 2 bps: booked as an explicit adjustment
    assert _pass(rec) == ["drift.detected", "balance.adjusted"]
    assert store.balance(USDC) == 5_000_100
    assert _pass(rec) == []
    src.amounts[WETH] = 2 * 10**18  # a third gone: halt the venue, book nothing
    assert _pass(rec) == ["drift.detected", "venue.halted"]
    assert store.venue_flag("lab1").halted
    assert store.balance(WETH) == 3 * 10**18
    assert _pass(rec) == []  # the same reports again: nothing new
    fresh = Reconciler(store, [src], ReconcilePolicy(tolerance_bps=10))  # a new process reads the journal
    assert _pass(fresh) == []


def test_in_flight_drift_waits(store: Store) -> None:
    src = Reports("labex", {ETH_X: Decimal("10.5")})
    rec = Reconciler(store, [src])
    _pass(rec)
    store.append(IntentCreated("labex", "i-1", "order", None, ETH_X, Decimal("2"), None, None, None))
    src.amounts[ETH_X] = Decimal("8.5")  # the order filled at the venue before we booked it
    assert _pass(rec) == ["drift.detected"]
    assert not store.venue_flag("labex").halted
    assert store.balance(ETH_X) == Decimal("10.5")
    assert _pass(rec) == []


amounts = st.integers(min_value=0, max_value=2**256 - 1)


@settings(max_examples=200, deadline=None)
@given(
    ledger=st.dictionaries(st.sampled_from([USDC, WETH]), amounts),
    venue=st.dictionaries(st.sampled_from([USDC, WETH]), amounts, min_size=1),
    bps=st.integers(min_value=0, max_value=500),
)
def test_a_second_pass_on_the_same_reports_adds_nothing(
    ledger: dict[AssetId, int], venue: dict[AssetId, int], bps: int
) -> None:
    policy = ReconcilePolicy(tolerance_bps=bps)
    reports = [BalanceReport("lab1", a, v) for a, v in venue.items()]
    first = events_for(decide(reports, ledger, policy=policy), source="t", recorded_drifts={}, halted={})
    held = dict(ledger)
    drifts: dict[AssetId, tuple[int, int]] = {}
    halted = False
    for e in first:
        if isinstance(e, BalanceAdjusted):
            held[e.asset] = held.get(e.asset, 0) + int(e.delta)
        elif isinstance(e, DriftDetected):
            drifts[e.asset] = (int(e.expected), int(e.observed))
        elif isinstance(e, VenueHalted):
            halted = True
    second = events_for(
        decide(reports, held, policy=policy), source="t", recorded_drifts=drifts, halted={"lab1": halted}
    )
    assert second == []
    for a, v in venue.items():  # and the ledger equals the venue unless the venue was halted for it
        assert held[a] == v or halted
