"""The transfer state machine (``state/transfers.py``): final states stay final, the in-flight amount is
debited-but-not-credited, and the fold is total (any order of events gives a state, never an error)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.model.events import (
    TransferAccepted,
    TransferCompleted,
    TransferExpired,
    TransferKind,
    TransferRefunded,
    TransferRejected,
    TransferRequested,
    TransferUnknown,
)
from fillpath.state import transfers
from fillpath.state.records import TransferState
from fillpath.state.transfers import FINAL, IN_FLIGHT, MAYBE_TAKEN, TransferEvent

SRC, DST = AssetId("USDC", "lab1"), AssetId("USDC", "lab2")
REQUESTED = TransferRequested("lab1", "t", TransferKind.BRIDGE, "b", SRC, DST, 1000, 990, 5, 9)
STEPS: dict[str, TransferEvent] = {
    "accepted": TransferAccepted("lab1", "t", "deposit 7"),
    "rejected": TransferRejected("lab1", "t", "reverted"),
    "unknown": TransferUnknown("lab1", "t", "no reply"),
    "expired": TransferExpired("lab1", "t", "fill deadline passed"),
    "completed": TransferCompleted("lab2", "t", 990, "0xfill"),
    "refunded": TransferRefunded("lab1", "t", 1000, "0xrefund"),
}


def fold(events: list[TransferEvent]) -> transfers.TransferRecord:
    record = None
    for i, e in enumerate(events, start=1):
        record = transfers.apply(record, e, i, 1_000 + i)
    assert record is not None
    return record


def test_the_happy_path_and_the_refund() -> None:
    done = fold([REQUESTED, STEPS["accepted"], STEPS["completed"]])
    assert (done.state, done.received, done.ref, done.landed_ref) == (
        TransferState.COMPLETED,
        990,
        "deposit 7",
        "0xfill",
    )
    assert (done.since_ns, done.accepted_ns, done.ended_ns) == (1_001, 1_002, 1_003)
    back = fold([REQUESTED, STEPS["accepted"], STEPS["expired"], STEPS["refunded"]])
    assert (back.state, back.refunded, back.reason) == (TransferState.REFUNDED, 1000, "fill deadline passed")


def test_unknown_after_acceptance_keeps_the_funds_in_flight() -> None:
    t = fold([REQUESTED, STEPS["accepted"], STEPS["unknown"]])
    assert t.state is TransferState.ACCEPTED
    assert fold([REQUESTED, STEPS["unknown"]]).state is TransferState.UNKNOWN
    assert fold([REQUESTED, STEPS["unknown"], STEPS["accepted"]]).state is TransferState.ACCEPTED
    assert fold([REQUESTED, STEPS["unknown"], STEPS["rejected"]]).state is TransferState.REJECTED


def test_rejected_after_acceptance_is_not_believed() -> None:
    """Once the source took the funds only a landing or a refund ends the transfer: a 'rejected' then is not proof
    that nothing moved."""
    assert fold([REQUESTED, STEPS["accepted"], STEPS["rejected"]]).state is TransferState.ACCEPTED


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(sorted(STEPS)), max_size=8))
def test_final_states_are_final_and_every_order_folds(names: list[str]) -> None:
    events = [REQUESTED, *(STEPS[n] for n in names)]
    states = [fold(events[: i + 1]).state for i in range(len(events))]
    for before, after in itertools.pairwise(states):
        if before in FINAL:
            assert after is before
        if before in IN_FLIGHT:  # the source took the funds: only a landing, a refund or expiry moves it
            assert after in IN_FLIGHT | {TransferState.COMPLETED, TransferState.REFUNDED}
        if after in MAYBE_TAKEN:
            assert before in MAYBE_TAKEN
    # the request may come late (recovery learns the landing first): the record still carries it
    late = fold([*(STEPS[n] for n in names), REQUESTED]) if names else fold([REQUESTED])
    assert (late.source, late.amount) == (SRC, 1000)
