"""Named points in the hot path where a crash test kills the process (``kill -9`` of itself).

``FILLPATH_FAILPOINT=intent`` (after an intent commits, before anything is sent), ``broadcast`` (after a
transaction's bytes left, before its receipt), ``ack`` (after an order's first reply is journaled, before the
rest of its fills), ``transfer_intent`` (a transfer's intent is committed, nothing sent), ``transfer_sent`` (a
bridge or exchange deposit's transaction is final and booked, its funds in flight, before the landing),
``transfer_done`` (a deposit was credited and booked, before the step that spends it), ``withdraw_sent`` (the
exchange accepted a withdrawal, before we journaled it), ``rebalance_claimed`` (a rebalancing run claimed its slot
and wrote its notional, before its first move), ``replace`` (the tracker journaled a fee-bump replacement, before its
bytes left). Off unless the variable is set; the composition root
reads it once, so nothing else does.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

POINTS = frozenset(
    {
        "intent",
        "broadcast",
        "ack",
        "transfer_intent",
        "transfer_sent",
        "transfer_done",
        "withdraw_sent",
        "rebalance_claimed",
        "replace",
    }
)


def from_env(env: dict[str, str] | None = None) -> Callable[[str], None]:
    wanted = (env if env is not None else dict(os.environ)).get("FILLPATH_FAILPOINT")
    if not wanted or wanted not in POINTS:
        return _never

    def hit(name: str) -> None:
        if name == wanted:
            os.kill(os.getpid(), signal.SIGKILL)

    return hit


def _never(name: str) -> None:
    return None
