"""Reconciliation decisions, on both store backends, and their idempotency as a property."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.model.events import BalanceAdjusted, DriftDetected, IntentCreated, VenueHalted
from fillpath.model.orders import OrderState
from fillpath.model.reports import BalanceReport, OpenOrderReport, TradeReport
from fillpath.model.sides import Side
from fillpath.state.reconcile import Action, ReconcilePolicy, decide, events_for
from fillpath.state.reconcile_orders import OrderDriftKey, compare_orders, drift_key, missing_fills, order_events
from fillpath.state.reconcile_stream import Heard, StreamAction, compare_stream, stream_events
from fillpath.state.reconciler import Reconciler
from fillpath.state.records import OrderRecord
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


# --- orders, trades and the stream: the same property ---------------------------------------------------------

X = "binance"
CIDS = st.sampled_from(["c1", "c2", "c3", "c4"])
VIDS = st.sampled_from(["v1", "v2", "v3", "v4", "v5"])
qty = st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-4))


def _listed(cid: str, vid: str, q: Decimal) -> OpenOrderReport:
    return OpenOrderReport(X, cid, vid, "ETH/USDT", Side.BUY, q, Decimal(2000), Decimal(0))


def _record(cid: str, state: OrderState) -> OrderRecord:
    return OrderRecord(X, cid, state, None, "ETH/USDT", Side.BUY, Decimal(1), None, Decimal(0), None, 1)


@settings(max_examples=200, deadline=None)
@given(
    listed=st.dictionaries(CIDS, st.tuples(VIDS, qty)),
    ours=st.dictionaries(CIDS, st.sampled_from([s for s in OrderState if s is not OrderState.NEW])),
    trades=st.dictionaries(st.sampled_from([f"t{i}" for i in range(8)]), st.tuples(VIDS, qty)),
    cid_of=st.dictionaries(VIDS, CIDS),
    booked=st.sets(st.sampled_from([f"t{i}" for i in range(8)])),
)
def test_a_second_order_pass_on_the_same_reports_adds_nothing(
    listed: dict[str, tuple[str, Decimal]],
    ours: dict[str, OrderState],
    trades: dict[str, tuple[str, Decimal]],
    cid_of: dict[str, str],
    booked: set[str],
) -> None:
    reports = [_listed(c, v, q) for c, (v, q) in listed.items()]
    records = {c: _record(c, s) for c, s in ours.items()}
    findings = compare_orders(X, reports, records, fresh=())
    assert {f.client_order_id for f in findings} == set(listed) | {c for c, s in ours.items() if not s.terminal}
    recorded: set[OrderDriftKey] = set()
    first = order_events(findings, recorded)
    assert {e.client_order_id for e in first} == {c for c in listed if c not in ours or ours[c].terminal}
    recorded |= {drift_key(e) for e in first}
    assert order_events(compare_orders(X, reports, records, fresh=()), recorded) == []

    listing = [TradeReport(X, v, "ETH/USDT", t, q, Decimal(2000)) for t, (v, q) in trades.items()]
    held = {(X, t) for t in booked}
    missing, foreign = missing_fills(listing, cid_of, held)
    assert {f.trade_id for fs in missing.values() for f in fs} == {t for t, (v, _) in trades.items()
                                                                   if v in cid_of and t not in booked}  # fmt: skip
    assert all(f.client_order_id == c for c, fs in missing.items() for f in fs)
    held |= {(X, f.trade_id) for fs in missing.values() for f in fs}  # booked through the state machine
    again, foreign_again = missing_fills(listing, cid_of, held)
    assert again == {} and foreign_again == foreign


@settings(max_examples=200, deadline=None)
@given(
    rest=st.dictionaries(st.sampled_from([ETH_X, AssetId("USDT", "labex")]), qty),
    heard=st.dictionaries(st.sampled_from([ETH_X, AssetId("USDT", "labex")]), st.tuples(qty, st.booleans())),
)
def test_a_second_stream_pass_on_the_same_reports_adds_nothing(
    rest: dict[AssetId, Decimal], heard: dict[AssetId, tuple[Decimal, bool]]
) -> None:
    sent = 1_000
    rest_reports = [BalanceReport("labex", a, v) for a, v in rest.items()]
    stream = {a: Heard(BalanceReport("labex", a, v), sent + 1 if late else sent - 1) for a, (v, late) in heard.items()}
    found = compare_stream(rest_reports, stream, rest_sent_ns=sent)
    for f in found:  # heard during or after the REST read: not compared; otherwise drift iff they differ
        late = heard[f.asset][1]
        expect = StreamAction.WAIT if late else StreamAction.OK if f.rest == f.stream else StreamAction.DRIFT
        assert f.action is expect
        assert f.rest == rest.get(f.asset, Decimal(0))
    recorded: dict[AssetId, tuple[int | Decimal, int | Decimal]] = {}
    first = stream_events(found, recorded)
    assert all(e.source == "labex stream vs rest" for e in first)
    recorded.update({e.asset: (e.expected, e.observed) for e in first})
    assert stream_events(compare_stream(rest_reports, stream, rest_sent_ns=sent), recorded) == []


def test_funds_in_flight_between_locations_are_counted_not_drift(store: Store) -> None:
    """A bridge from lab1 to lab2: while it flies, lab2 crediting it before we book the landing (or lab1 taking it
    before we book the deposit) is a wait, not drift; the pass lists what is on its way to each venue."""
    from fillpath.model.events import TransferAccepted, TransferCompleted, TransferKind, TransferRequested

    usdc2 = AssetId("USDC", "lab2")
    lab1, lab2 = Reports("lab1", {USDC: 5_000}), Reports("lab2", {usdc2: 0})
    rec = Reconciler(store, [lab1, lab2])
    _pass(rec)
    store.append(TransferRequested("lab1", "t-1", TransferKind.BRIDGE, "bridge", USDC, usdc2, 1_000, 990, None, None))
    lab1.amounts[USDC] = 4_000  # the deposit is mined, not yet booked
    assert _pass(rec) == ["drift.detected"]  # recorded, never adjusted or halted
    assert store.balance(USDC) == 5_000 and not store.venue_flag("lab1").halted
    store.append_many([BalanceAdjusted("lab1", USDC, -1_000, "deposit"), TransferAccepted("lab1", "t-1", "7")])
    lab2.amounts[usdc2] = 990  # filled on lab2 before we booked it
    passes = asyncio.run(rec.run_once())
    assert [f.action for p in passes for f in p.findings if f.asset == usdc2] == [Action.WAIT]
    (arriving,) = [t for p in passes if p.venue == "lab2" for t in p.in_flight]
    assert (arriving.transfer_id, arriving.expected_out) == ("t-1", 990)
    assert not store.venue_flag("lab2").halted and store.balance(usdc2) == 0
    store.append_many([BalanceAdjusted("lab2", usdc2, 990, "fill"), TransferCompleted("lab2", "t-1", 990, "0xf")])
    passes = asyncio.run(rec.run_once())
    assert all(f.action is Action.OK for p in passes for f in p.findings)
    assert all(not p.in_flight for p in passes)
