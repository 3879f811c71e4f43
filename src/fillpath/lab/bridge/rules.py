"""The lab relayer's rules, pure: what to do with one relay given what the chains say about it now.

Both relayers decide with :func:`decide` — the lab's process (``relayer.py``: anvil over HTTP, the wall clock) and the
chaos world's (``lab/chaos/relayer.py``: in-process chains, the virtual clock) — so their rules cannot drift apart.
They differ only in how they read the chains, send, and move time: the lab's relayer, whose chains' clocks move only
when blocks are mined, mines past a deadline (:attr:`Action.AWAIT_DEADLINE`) once ``refund_after_s`` has passed; the
world's miner moves its clocks itself.

The rules follow the spoke pool (``contracts/src/LabSpokePool.sol``): a relay is filled at most once, entirely (Across
fills the whole ``outputAmount`` or nothing), not after its ``fillDeadline`` on the destination's clock; a deposit is
paid out at most once: the relayer repaid once the relay is filled, or the depositor refunded once the deadline has
passed unfilled (the settler checks the destination's clock and the origin's).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    SETTLED = "settled"
    """The deposit is no longer pending on its origin (repaid or refunded): nothing more to do."""
    REPAY = "repay"
    """The relay is filled on the destination: the settler repays the relayer on the origin."""
    FILL = "fill"
    """Fill the relay on the destination from the relayer's inventory."""
    WAIT_FILL = "wait_fill"
    """The relayer will fill it, after its fill delay."""
    AWAIT_DEADLINE = "await_deadline"
    """It will not be filled: wait until the deadline has passed on both chains' clocks, then refund."""
    REFUND = "refund"
    """Unfilled past its deadline on both clocks: the settler refunds the depositor on the origin."""


class Refusal(StrEnum):
    """Why the relayer will not fill a relay it could still fill in time."""

    NO_FILL = "no_fill"
    """A fault: it fills nothing."""
    OVER_LIMIT = "over_limit"
    """Its configured liquidity per relay (``max_output``) is below the relay's output."""
    INVENTORY = "inventory"
    """Its inventory of the output token on the destination is short."""


@dataclass(frozen=True, slots=True)
class RelayView:
    """What the relayer knows of one relay now (read from the chains, plus its own configuration and faults)."""

    pending: bool
    """The deposit is Pending on the origin (neither repaid nor refunded)."""
    filled: bool
    """The relay is Filled on the destination."""
    origin_time: int
    """The origin's head block timestamp."""
    dest_time: int
    """The destination's head block timestamp."""
    fill_deadline: int
    output_amount: int
    inventory: int
    """The relayer's balance of the output token on the destination."""
    waited_s: float
    """Seconds since the relayer saw the deposit."""
    fill_delay_s: float | None
    """When it fills, counted from seeing the deposit; None: it will not fill (``no_fill``)."""
    max_output: int | None = None
    """The most it fills in one relay (``partial_liquidity``); None: no limit but its inventory."""


def refusal(v: RelayView) -> Refusal | None:
    """Why the relayer will not fill ``v`` (None: it will)."""
    if v.fill_delay_s is None:
        return Refusal.NO_FILL
    if v.max_output is not None and v.output_amount > v.max_output:
        return Refusal.OVER_LIMIT
    if v.inventory < v.output_amount:
        return Refusal.INVENTORY
    return None


def fillable(v: RelayView) -> bool:
    """The destination can still take a fill: its head is before the deadline (the fill lands in a later block, and
    the pool refuses one whose block is past ``fillDeadline``)."""
    return v.dest_time < v.fill_deadline


def expired(v: RelayView) -> bool:
    """The deadline has passed on both clocks: the settler may refund (the pool refuses a refund before
    ``fillDeadline + 1`` on the origin; the settler also wants the destination past it, so no fill can come)."""
    return v.dest_time > v.fill_deadline and v.origin_time > v.fill_deadline


def decide(v: RelayView) -> Action:
    """The one rule both relayers apply to a relay at each look."""
    if not v.pending:
        return Action.SETTLED
    if v.filled:
        return Action.REPAY
    if fillable(v) and refusal(v) is None:
        assert v.fill_delay_s is not None
        return Action.FILL if v.waited_s >= v.fill_delay_s else Action.WAIT_FILL
    return Action.REFUND if expired(v) else Action.AWAIT_DEADLINE
