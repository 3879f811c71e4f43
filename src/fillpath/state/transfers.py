"""Funds in flight: one transfer's state machine, as a pure fold over its events.

    REQUESTED ──accepted──► ACCEPTED ──completed──► COMPLETED
        │  ╲                   │  ╲
        │   unknown            │   expired ──► EXPIRED ──refunded──► REFUNDED
        │     ╲                │                  (or refunded straight from ACCEPTED)
        │      ► UNKNOWN ──(any venue evidence: accepted, rejected, completed, expired, refunded)
        └──rejected──► REJECTED

COMPLETED, REJECTED and REFUNDED are final: nothing moves a transfer out of them (a late or repeated event only
fills in a missing ref). ``TransferUnknown`` after the source took the funds changes nothing but the reason: the
funds are in flight whether or not we are waiting for them. Every rule is total, so the fold accepts events in any
order (recovery can learn a landing before the acceptance) and the projection rebuilt from the journal is the
one kept in memory.

What the state means for the books:
- REQUESTED / UNKNOWN: the source *may* have taken the funds (the ledger has not been debited): reconciliation
  treats the source asset as in flight there;
- ACCEPTED / EXPIRED: the source took them (the ledger was debited) and the target has not credited them: the
  amount is **in flight**, neither at the source nor at the target; the target asset is in flight there;
- final: nothing in flight.
"""

from __future__ import annotations

from dataclasses import replace

from fillpath.model.events import (
    Event,
    TransferAccepted,
    TransferCompleted,
    TransferExpired,
    TransferRefunded,
    TransferRejected,
    TransferRequested,
    TransferUnknown,
)
from fillpath.state.records import TransferRecord, TransferState

FINAL = frozenset({TransferState.COMPLETED, TransferState.REJECTED, TransferState.REFUNDED})
IN_FLIGHT = frozenset({TransferState.ACCEPTED, TransferState.EXPIRED})
"""The source took the funds and the target has not credited them."""
MAYBE_TAKEN = frozenset({TransferState.REQUESTED, TransferState.UNKNOWN})
"""Sent or about to be, not yet known taken."""

TransferEvent = (
    TransferRequested
    | TransferAccepted
    | TransferRejected
    | TransferCompleted
    | TransferExpired
    | TransferRefunded
    | TransferUnknown
)
TRANSFER_EVENT_TYPES = (
    TransferRequested,
    TransferAccepted,
    TransferRejected,
    TransferCompleted,
    TransferExpired,
    TransferRefunded,
    TransferUnknown,
)


def blank(transfer_id: str, venue: str) -> TransferRecord:
    """A transfer heard of before its request (events may arrive in any order)."""
    return TransferRecord(transfer_id, venue, TransferState.REQUESTED, None, None, None, None, None, None, None,
                          None, None, None, None, None, None, 0, 0)  # fmt: skip


def _next(state: TransferState, e: Event) -> TransferState:
    if state in FINAL:
        return state
    if isinstance(e, TransferAccepted):
        return TransferState.ACCEPTED if state in MAYBE_TAKEN else state
    if isinstance(e, TransferRejected):
        return TransferState.REJECTED if state in MAYBE_TAKEN else state
    if isinstance(e, TransferUnknown):
        return TransferState.UNKNOWN if state is TransferState.REQUESTED else state
    if isinstance(e, TransferExpired):
        return TransferState.EXPIRED
    if isinstance(e, TransferCompleted):
        return TransferState.COMPLETED
    if isinstance(e, TransferRefunded):
        return TransferState.REFUNDED
    return state  # TransferRequested: the state a blank record already has


def apply(old: TransferRecord | None, e: TransferEvent, seq: int, recv_ns: int) -> TransferRecord:
    """The record after ``e`` (``old`` None: the first event of this transfer)."""
    t = old or blank(e.transfer_id, e.venue)
    if not t.since_ns:
        t = replace(t, since_ns=recv_ns)
    state = _next(t.state, e)
    if isinstance(e, TransferRequested):
        t = replace(t, venue=e.venue, transfer_kind=e.transfer_kind, route=e.route, source=e.source, target=e.target,
                    amount=e.amount, expected_out=e.expected_out, expected_arrival_ns=e.expected_arrival_ns,
                    deadline_ns=e.deadline_ns, since_ns=recv_ns)  # fmt: skip
    elif isinstance(e, TransferAccepted):
        t = replace(t, ref=t.ref or e.ref, accepted_ns=t.accepted_ns or recv_ns)
    elif isinstance(e, TransferCompleted):
        if t.state not in FINAL:
            t = replace(t, received=e.received, landed_ref=e.ref, ended_ns=recv_ns)
    elif isinstance(e, TransferRefunded):
        if t.state not in FINAL:
            t = replace(t, refunded=e.refunded, landed_ref=e.ref, ended_ns=recv_ns)
    elif isinstance(e, TransferRejected | TransferExpired | TransferUnknown) and t.state not in FINAL:
        t = replace(t, reason=e.reason, ended_ns=recv_ns if isinstance(e, TransferRejected) else t.ended_ns)
    return replace(t, state=state, last_seq=seq)
