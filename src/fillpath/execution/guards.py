"""The hot path's only checks, all in memory: kill switch, venue not halted, notional limits, enough local
balance, min-out > 0, a deadline, slippage within the cap. A failing guard names itself; nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from fillpath.execution.killswitch import KillSwitch
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.errors import Halted

EVERYWHERE = "*"
"""The venue id of a halt that stops every venue (``VenueHalted("*")``), for engines that share a journal but not
a file system: the kill-switch file is per machine."""


class RiskLimits(Protocol):
    """The limits the guards enforce (``config.RiskConfig`` has them; execution does not import the config)."""

    @property
    def max_order_notional(self) -> Decimal: ...
    @property
    def max_venue_notional(self) -> Decimal: ...
    @property
    def max_slippage_bps(self) -> int: ...


@dataclass(frozen=True, slots=True)
class LegOrder:
    """One thing the hot path is about to do at one venue."""

    venue: str
    location: str
    asset_in: AssetId
    amount_in: Amount
    asset_out: AssetId
    min_out: Amount
    notional: Decimal  # in the numeraire
    deadline_ns: int | None
    funded_by: str | None = None  # the venue of the earlier leg that delivers this leg's input, if any


@dataclass(frozen=True, slots=True)
class GuardFailure:
    guard: str
    venue: str | None
    detail: str

    def __str__(self) -> str:
        where = f" ({self.venue})" if self.venue else ""
        return f"guard {self.guard}{where}: {self.detail}"


class GuardsFailed(Halted):
    def __init__(self, failures: Sequence[GuardFailure]) -> None:
        super().__init__("; ".join(map(str, failures)))
        self.failures = tuple(failures)


@dataclass(frozen=True, slots=True)
class Guards:
    kill_switch: KillSwitch
    risk: RiskLimits
    venue_halted: Callable[[str], bool]
    balance: Callable[[AssetId], Amount | None]
    balance_source: str = "the ledger"
    """What ``balance`` reads, for the message: the ledger (trading) or the snapshot (a dry run)."""

    def check(self, legs: Sequence[LegOrder], *, slippage_bps: int, now_ns: int) -> list[GuardFailure]:
        out: list[GuardFailure] = []
        reason = self.kill_switch.engaged()
        if reason is not None:
            return [GuardFailure("kill_switch", None, reason)]
        if self.venue_halted(EVERYWHERE):  # the journal's kill switch: every engine sharing the journal sees it
            return [GuardFailure("kill_switch", None, "halted everywhere (journal)")]
        if slippage_bps > self.risk.max_slippage_bps:
            out.append(
                GuardFailure(
                    "slippage_cap", None, f"{slippage_bps} bps is above the cap of {self.risk.max_slippage_bps}"
                )
            )
        per_venue: dict[str, Decimal] = {}
        needs: dict[AssetId, Amount] = {}
        for leg in legs:
            if self.venue_halted(leg.venue) or self.venue_halted(leg.location):
                out.append(GuardFailure("venue_halted", leg.venue, "the venue is halted"))
            if leg.min_out <= 0:
                out.append(GuardFailure("min_out", leg.venue, f"min-out is {leg.min_out}; every leg needs min-out > 0"))
            if leg.deadline_ns is None or leg.deadline_ns <= now_ns:
                out.append(GuardFailure("deadline", leg.venue, "no deadline, or one already past"))
            if leg.notional > self.risk.max_order_notional:
                out.append(
                    GuardFailure("order_notional", leg.venue, f"{leg.notional} is above {self.risk.max_order_notional}")
                )
            per_venue[leg.venue] = per_venue.get(leg.venue, Decimal(0)) + leg.notional
            if leg.funded_by is None:
                needs[leg.asset_in] = needs.get(leg.asset_in, 0) + leg.amount_in
        for venue, total in per_venue.items():
            if total > self.risk.max_venue_notional:
                out.append(GuardFailure("venue_notional", venue, f"{total} is above {self.risk.max_venue_notional}"))
        for asset, need in needs.items():
            held = self.balance(asset)
            if held is None or held < need:
                out.append(
                    GuardFailure(
                        "balance", asset.location, f"needs {need} {asset}, {self.balance_source} holds {held or 0}"
                    )
                )
        return out

    def enforce(self, legs: Sequence[LegOrder], *, slippage_bps: int, now_ns: int) -> None:
        failures = self.check(legs, slippage_bps=slippage_bps, now_ns=now_ns)
        if failures:
            raise GuardsFailed(failures)
