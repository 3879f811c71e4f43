"""Reconciliation (cold path): what the ledger believes against what each venue reports.

For every asset a venue reports, one decision:

- ``open``: the ledger has never held it; the report opens it (an explicit ``BalanceAdjusted``, reason
  "opening balance"): a new account, or a first run, is not an error.
- ``ok``: they agree.
- ``wait``: they differ, but something is in flight on that venue (an unfinished transaction, an open intent,
  an unsettled order): the difference may be that, so nothing is booked; a later pass decides.
- ``adjust``: an unexplained difference within tolerance: recorded (``DriftDetected``) and booked as an
  explicit adjustment, so the ledger equals the venue again.
- ``halt``: an unexplained difference beyond tolerance: recorded, and the venue is halted (a flag the hot path
  reads) until someone looks.

Reconciling twice on the same reports adds nothing the second time: an adjustment makes them agree, a drift
already recorded with the same figures is not recorded again, and a halted venue is not halted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.events import BalanceAdjusted, DriftDetected, Event, VenueHalted
from fillpath.model.reports import BalanceReport


class Action(StrEnum):
    OPEN = "open"
    OK = "ok"
    WAIT = "wait"
    ADJUST = "adjust"
    HALT = "halt"


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    tolerance_bps: int = 10  # relative to the larger of ledger and venue
    dust: Mapping[str, Amount] | None = None  # per symbol: absolute differences this small are always tolerated
    order_grace_s: float = 5.0  # an order submitted without a reply this recently may still be on the wire
    trade_lookback_s: float = 86_400.0  # trades are checked for orders we heard of this recently, and open ones
    venue_clock_slack_ms: int = 60_000  # trade lists start this much before our first word of an order
    stream_settle_s: float = 0.25  # after the REST read, time for a push already on the wire to arrive


@dataclass(frozen=True, slots=True)
class Finding:
    venue: str
    asset: AssetId
    ledger: Amount | None
    observed: Amount
    action: Action

    @property
    def drift(self) -> Amount:
        return self.observed - (self.ledger or 0)


def _within(ledger: Amount, observed: Amount, asset: AssetId, policy: ReconcilePolicy) -> bool:
    # Decimal(int) is exact, so one arithmetic serves base units and exchange quantities alike
    # and 160 digits hold uint256 times 10^4 without the default context's rounding at 28 digits
    with localcontext(prec=160):
        held, seen = Decimal(ledger), Decimal(observed)
        diff = abs(seen - held)
        if diff <= Decimal((policy.dust or {}).get(asset.symbol, 0)):
            return True
        return diff * 10_000 <= max(abs(held), abs(seen)) * policy.tolerance_bps


def decide(
    reports: Sequence[BalanceReport],
    ledger: Mapping[AssetId, Amount],
    *,
    in_flight: Iterable[AssetId] = (),
    venue_busy: bool = False,
    policy: ReconcilePolicy = ReconcilePolicy(),
) -> list[Finding]:
    """Pure: one finding per reported asset. ``venue_busy`` means anything at all is in flight there."""
    flying = set(in_flight)
    out = []
    for r in reports:
        held = ledger.get(r.asset)
        if held is None:
            action = Action.OPEN
        elif held == r.amount:
            action = Action.OK
        elif venue_busy or r.asset in flying:
            action = Action.WAIT
        elif _within(held, r.amount, r.asset, policy):
            action = Action.ADJUST
        else:
            action = Action.HALT
        out.append(Finding(r.venue, r.asset, held, r.amount, action))
    return out


IN_FLIGHT_NOTE = ", funds in flight"
"""Ends the source of a drift recorded while funds were in flight there (a *wait*): the difference is explained by
what is moving, so it is recorded but is no evidence against the venue (venue health does not score it)."""


def events_for(
    findings: Sequence[Finding],
    *,
    source: str,
    recorded_drifts: Mapping[AssetId, tuple[Amount, Amount]],
    halted: Mapping[str, bool],
) -> list[Event]:
    """The events a pass appends. ``recorded_drifts`` holds the last (expected, observed) per asset."""
    events: list[Event] = []
    halting: set[str] = set()
    for f in findings:
        if f.action is Action.OPEN:
            events.append(BalanceAdjusted(f.venue, f.asset, f.observed, "opening balance"))
            continue
        if f.action is Action.OK:
            continue
        assert f.ledger is not None
        if recorded_drifts.get(f.asset) != (f.ledger, f.observed):
            label = source + IN_FLIGHT_NOTE if f.action is Action.WAIT else source
            events.append(DriftDetected(f.venue, f.asset, f.ledger, f.observed, label))
        if f.action is Action.ADJUST:
            events.append(
                BalanceAdjusted(
                    f.venue, f.asset, f.drift, f"reconciliation: unexplained drift within tolerance ({source})"
                )
            )
        elif f.action is Action.HALT and not halted.get(f.venue) and f.venue not in halting:
            halting.add(f.venue)
            events.append(
                VenueHalted(f.venue, f"drift on {f.asset} beyond tolerance: ledger {f.ledger}, venue {f.observed}")
            )
    return events


def zero_like(amount: Amount) -> Amount:
    return Decimal(0) if isinstance(amount, Decimal) else 0
