"""P&L decomposition (transaction cost analysis) of one execution, in base units of the asset bought.

    arrival   = what ``amount_in`` was worth at the arrival mid (the snapshot the plan was made on)
    shortfall = arrival − (realized − gas − drift)
              = price_impact + fees + transfer_fees + gas + slippage + latency + in_flight + drift + failed   (exactly)

- ``fees``: what the venues charge (pool fee tiers, taker fees) on each leg's input, valued at the mid.
- ``transfer_fees``: what moving between locations charged (a bridge's relayer fee, an exchange's withdrawal fee:
  proportional and fixed), valued at the mid.
- ``price_impact``: the rest of arrival − expected: moving down the curves and books.
- ``latency``: what the market took away between the decision and the send (re-quote at send − plan).
- ``in_flight``: the same for legs that waited for a transfer to land: what the market took while the funds were
  between locations (their re-quote at send, after the landing, against the plan).
- ``failed``: the expected output of legs that did not run (rejected, timed out, halted mid-flight).
- ``slippage``: expected (of the legs that ran, after latency) − realized.
- ``gas``: realized gas (or the plan's estimate until known), converted at the mid.
- ``drift``: adjustments reconciliation booked against the execution's assets while it ran.

A component may be negative (a fill better than expected, a mid that was stale in our favour). Every figure is an
integer, so the components add up to the shortfall to the unit; rounding happens once per leg fee and once for
the arrival value, always down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import floor


@dataclass(frozen=True, slots=True)
class LegCost:
    """One leg's input and its fee rate, with the mid value of one base unit of its input in buy base units."""

    venue: str
    amount_in: int
    fee_rate: Fraction  # e.g. Fraction(3000, 10**6) for a 0.3% pool
    in_value: Fraction  # buy base units per input base unit, at the arrival mid
    fee_fixed: int = 0  # in input base units (a bridge's or a withdrawal's fixed fee)
    transfer: bool = False  # a move between locations: its fee is a transfer fee

    @property
    def fee(self) -> Fraction:
        """The fee in buy base units at the mid (not yet rounded)."""
        return (self.amount_in * self.fee_rate + self.fee_fixed) * self.in_value


@dataclass(frozen=True, slots=True)
class Decomposition:
    arrival: int
    expected: int
    realized: int
    price_impact: int
    fees: int
    gas: int
    slippage: int
    latency: int
    drift: int
    failed: int
    transfer_fees: int = 0
    in_flight: int = 0

    @property
    def shortfall(self) -> int:
        return self.arrival - (self.realized - self.gas - self.drift)

    @property
    def components(self) -> dict[str, int]:
        return {
            "price_impact": self.price_impact,
            "fees": self.fees,
            "transfer_fees": self.transfer_fees,
            "gas": self.gas,
            "slippage": self.slippage,
            "latency": self.latency,
            "in_flight": self.in_flight,
            "drift": self.drift,
            "failed": self.failed,
        }

    def bps(self, value: int) -> Fraction:
        """``value`` in basis points of the arrival value."""
        return Fraction(value * 10_000, self.arrival) if self.arrival else Fraction(0)


def decompose(
    *,
    amount_in: int,
    arrival_mid: Fraction,
    expected: int,
    realized: int,
    legs: Sequence[LegCost],
    gas: int,
    latency: int = 0,
    failed: int = 0,
    drift: int = 0,
    in_flight: int = 0,
) -> Decomposition:
    """``arrival_mid``: buy base units per sell base unit. ``expected``: the plan's gross output."""
    arrival = floor(amount_in * arrival_mid)
    fees = sum(floor(leg.fee) for leg in legs if not leg.transfer)
    transfer_fees = sum(floor(leg.fee) for leg in legs if leg.transfer)
    price_impact = arrival - expected - fees - transfer_fees
    slippage = (expected - latency - in_flight - failed) - realized
    return Decomposition(arrival, expected, realized, price_impact, fees, gas, slippage, latency, drift, failed,
                         transfer_fees, in_flight)  # fmt: skip
