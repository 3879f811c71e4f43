"""The reconciler's identity and external-flow rules on a real SQLite store, with venues that say what a test tells
them (the lab runs of the same rules: tests/cli/test_external_flows.py, tests/cli/test_venue_identity.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fillpath.model.assets import AssetId
from fillpath.model.errors import Refused
from fillpath.model.events import (
    ExternalFlow,
    IntentCreated,
    TxBroadcast,
    TxConfirmed,
    TxMined,
    VenueChecked,
    VenueHalted,
    VenueIdentified,
)
from fillpath.model.reports import BalanceReport, FlowReport
from fillpath.state.reconcile import Action
from fillpath.state.reconciler import PassResult, Reconciler
from fillpath.state.store import Store

USDC = AssetId("USDC", "x")


@dataclass
class Venue:
    """A balance source and its evidence in one."""

    location: str = "x"
    held: int = 100
    ident: str | None = "evm:1:genesis"
    at: int = 10
    evidence: list[FlowReport] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)

    async def balances(self) -> list[BalanceReport]:
        return [BalanceReport(self.location, USDC, self.held)]

    async def identity(self) -> str | None:
        return self.ident

    def mark(self) -> int | None:
        return self.at

    async def flows(self, after: int, assets: Collection[AssetId]) -> list[FlowReport]:
        self.asked.append(after)
        return [f for f in self.evidence if f.asset in assets]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'j.db'}")


def _pass(store: Store, venue: Venue, *, epochs: bool = False) -> PassResult:
    rec = Reconciler(store, [venue], evidence={venue.location: venue}, new_epoch={"x"} if epochs else ())
    return asyncio.run(rec.run_once())[0]


def _kinds(store: Store) -> list[str]:
    return [r.event.kind for r in store.events()]


def test_a_flow_with_evidence_is_booked_once_and_only_what_no_evidence_explains_is_drift(store: Store) -> None:
    venue = Venue()
    first = _pass(store, venue)
    assert [f.action for f in first.findings] == [Action.OPEN]
    assert [type(e) for e in first.noted] == [VenueIdentified, VenueChecked]
    venue.held, venue.at = 350, 20
    venue.evidence = [FlowReport("x", USDC, 250, "0xaa:0", "a transfer in", "0xaa")]
    second = _pass(store, venue)
    assert venue.asked == [10]  # after the last point the two agreed
    assert [f.action for f in second.findings] == [Action.OK] and [f.delta for f in second.flows] == [250]
    assert store.balance(USDC) == 350
    assert _pass(store, venue).flows == ()  # the same evidence again: nothing
    venue.held, venue.at = 450, 30  # 100 more: one flow of ours (booked by execution), so no evidence for it
    venue.evidence.append(FlowReport("x", USDC, 100, "0xbb:0", "our own transfer", "0xBB"))
    store.append_many([TxBroadcast("x", "0xBB", "0xme", 0), TxMined("x", "0xBB", 25, "0xh"),
                       TxConfirmed("x", "0xBB", 25, 3)])  # fmt: skip
    third = _pass(store, venue)
    assert third.flows == () and [f.action for f in third.findings] == [Action.HALT]
    assert store.venue_flag("x").halted


def test_another_identity_halts_a_real_venue_until_accepted_and_starts_an_epoch_on_the_lab(store: Store) -> None:
    venue = Venue()
    _pass(store, venue)
    venue.ident, venue.held = "evm:1:genesis:node:2", 5
    halted = _pass(store, venue)
    assert halted.findings == () and "reconcile --accept x" in (halted.identity_changed or "")
    assert [type(e) for e in halted.events] == [VenueHalted]
    assert _pass(store, venue).events == ()  # halted once
    rec = Reconciler(store, [venue], evidence={"x": venue})
    dry = asyncio.run(rec.accept(venue, "ops", "reset", execute=False))
    assert [a.delta for a in dry.adjustments] == [-95] and dry.audit_seq is None and store.venue_flag("x").halted
    done = asyncio.run(rec.accept(venue, "ops", "reset", execute=True))
    assert done.audit_seq is not None and done.lifts_halt and not store.venue_flag("x").halted
    assert store.balance(USDC) == 5
    assert _kinds(store)[-5:] == ["balances.accepted", "balance.adjusted", "venue.identified", "venue.checked",
                                 "venue.resumed"]  # fmt: skip
    assert [f.action for f in _pass(store, venue).findings] == [Action.OK]

    venue.ident, venue.held = "evm:1:genesis:node:3", 70  # the lab's rule: a new epoch, no halt
    lab = _pass(store, venue, epochs=True)
    assert "epoch 2" in (lab.identity_changed or "") and not store.venue_flag("x").halted
    assert [f.action for f in lab.findings] == [Action.OK] and store.balance(USDC) == 70
    epoch = [r.event for r in store.events() if isinstance(r.event, VenueIdentified)][-1]
    assert (epoch.epoch, epoch.archived) == (2, "USDC@x=5")


def test_accept_is_refused_while_something_is_in_flight(store: Store) -> None:
    venue = Venue()
    _pass(store, venue)
    store.append(IntentCreated("x", "i-9", "swap", asset_in=USDC, amount_in=10))
    with pytest.raises(Refused, match="in flight"):
        asyncio.run(Reconciler(store, [venue], evidence={"x": venue}).accept(venue, "ops", "r", execute=True))
    assert "balances.accepted" not in _kinds(store)


def test_evidence_that_cannot_be_read_leaves_the_difference_to_the_drift_rules(store: Store) -> None:
    from fillpath.model.errors import Rejected

    venue = Venue()
    _pass(store, venue)

    async def broken(after: int, assets: Collection[AssetId]) -> list[FlowReport]:
        raise Rejected("missing trie node")

    venue.flows = broken  # type: ignore[method-assign]
    venue.held, venue.at = 100_000, 20
    result = _pass(store, venue)
    assert result.flows == () and [f.action for f in result.findings] == [Action.HALT]
    assert not any(isinstance(r.event, ExternalFlow) for r in store.events())


def test_a_venue_that_cannot_say_who_it_is_is_still_reconciled(store: Store) -> None:
    from fillpath.model.errors import Retryable

    venue = Venue()

    async def unknown() -> str | None:
        raise Retryable("404 Not Found")

    venue.identity = unknown  # type: ignore[method-assign]
    result = _pass(store, venue)
    assert [f.action for f in result.findings] == [Action.OPEN] and result.identity_changed is None
    assert "venue.identified" not in _kinds(store)


def test_a_withdrawal_stamped_just_before_the_mark_is_booked_only_when_the_difference_needs_it(store: Store) -> None:
    """The cause of "ETH@labex: ledger -1468, venue 30": ``lab fund`` set 1,500 ETH to 2 (an internal withdrawal of
    1,498) less than a second before the pass that opened the ledger at 2. Withdrawal times are whole seconds, so the
    evidence looks a second before the mark and found that withdrawal again when 29 came in: booked twice."""
    venue = Venue(held=2)
    assert [f.action for f in _pass(store, venue).findings] == [Action.OPEN]  # the 1,498 is already in the 2
    old = FlowReport("x", USDC, -1498, "withdrawal:w1", "withdrawn a moment before the mark", "w1", near_mark=True)
    venue.held, venue.at = 31, 20
    venue.evidence = [old, FlowReport("x", USDC, 29, "deposit:d1", "an internal deposit", "d1")]
    result = _pass(store, venue)
    assert [f.delta for f in result.flows] == [29] and [f.action for f in result.findings] == [Action.OK]
    assert store.balance(USDC) == 31 and not store.venue_flag("x").halted

    # ... and one stamped down to the second before the mark that the balance does not show yet is new: booked
    late = FlowReport("x", USDC, -11, "withdrawal:w2", "withdrawn just after the mark", "w2", near_mark=True)
    venue.held, venue.at, venue.evidence = 20, 30, [old, late]
    result = _pass(store, venue)
    assert [f.evidence_id for f in result.flows] == ["withdrawal:w2"] and store.balance(USDC) == 20


def test_gas_booked_for_a_transaction_mined_after_the_block_read_is_in_flight_not_drift(store: Store) -> None:
    """A pass reads the chain at block 10; before it reads the ledger, a transaction mined in block 11 is final and
    its gas booked. The ledger is ahead of those figures, not wrong: adjusting it would be undone by the next pass
    (issue 21: "adjusts ETH@lab1 and back, and degrades the venue")."""
    from fillpath.model.events import BalanceAdjusted

    venue = Venue(held=100)
    _pass(store, venue)
    store.append_many([TxBroadcast("x", "0xcc", "0xme", 0), TxMined("x", "0xcc", 11, "0xh"),
                       TxConfirmed("x", "0xcc", 11, 3), BalanceAdjusted("x", USDC, -5, "gas")])  # fmt: skip
    early = _pass(store, venue)  # still the figures of block 10
    assert [f.action for f in early.findings] == [Action.WAIT]
    assert not [e for e in early.events if isinstance(e, BalanceAdjusted)] and not store.venue_flag("x").halted
    venue.held, venue.at = 95, 11  # the next read shows it
    assert [f.action for f in _pass(store, venue).findings] == [Action.OK] and store.balance(USDC) == 95


def test_a_transaction_from_before_the_ledger_last_agreed_keeps_no_chain_in_flight(store: Store) -> None:
    """Block numbers start over with a lab epoch: a transaction of an earlier one, numbered above every read of the
    new chain, is no reason to wait (the drift rules still apply)."""
    store.append_many([TxBroadcast("x", "0xdd", "0xme", 0), TxMined("x", "0xdd", 500, "0xh"),
                       TxConfirmed("x", "0xdd", 500, 3)])  # fmt: skip
    venue = Venue(held=100)
    _pass(store, venue)
    venue.held, venue.at = 100_000, 20
    assert [f.action for f in _pass(store, venue).findings] == [Action.HALT]


def test_what_is_booked_while_the_venue_is_being_read_is_in_flight_for_that_pass(store: Store) -> None:
    """A bridge fill lands and is booked (+250) after the pass asked the venue for its figures and before it reads the
    ledger: the figures predate it. It once halted the destination chain in a scheduled rebalance."""
    from fillpath.model.events import BalanceAdjusted

    venue = Venue(held=100)
    _pass(store, venue)
    read = venue.balances

    async def landing_meanwhile() -> list[BalanceReport]:
        figures = await read()
        store.append(BalanceAdjusted("x", USDC, 250, "bridge fill of t-1"))
        return figures

    venue.balances = landing_meanwhile  # type: ignore[method-assign]
    result = _pass(store, venue)
    assert [f.action for f in result.findings] == [Action.WAIT] and not store.venue_flag("x").halted
    venue.balances, venue.held, venue.at = read, 350, 11  # type: ignore[method-assign]
    assert [f.action for f in _pass(store, venue).findings] == [Action.OK]
