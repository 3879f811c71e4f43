"""What the router may know about the market at one instant, independent of the snapshot file format.

The snapshot reader (another module) builds this; the optimizer only needs venues plus the numbers that
turn gas and waiting into the buy asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from fillpath.model.assets import AssetId
from fillpath.router.memo import Memo
from fillpath.router.venues.base import Venue

if TYPE_CHECKING:
    from fillpath.router.snapshot import Snapshot

NATIVE_DECIMALS = 18
"""EVM native assets (the unit gas is paid in) have 18 decimals; used when ``decimals`` omits the native."""


@dataclass(frozen=True)
class Market:
    """Venues plus conversion data. ``prices`` are numeraire per whole unit (as in the snapshot)."""

    venues: tuple[Venue, ...]
    decimals: Mapping[AssetId, int] = field(default_factory=dict)
    prices: Mapping[AssetId, Fraction] = field(default_factory=dict)
    holdings: Mapping[AssetId, int] = field(default_factory=dict)
    gas_price_wei: Mapping[str, int] = field(default_factory=dict)
    native: Mapping[str, AssetId] = field(default_factory=dict)
    memo: Memo = field(default_factory=Memo, init=False, repr=False, compare=False)
    """What routes on these venues share (the graph per request shape): :mod:`fillpath.router.memo`."""

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> Market:
        """Everything the optimizer needs from a parsed ``fillpath.snapshot/1``."""
        from fillpath.router.venues.factory import venues_from_snapshot

        return cls(
            venues=venues_from_snapshot(snap),
            decimals={a.id: a.decimals for a in snap.assets},
            prices={a: Fraction(p) for a, p in (snap.prices or {}).items()},
            holdings=dict(snap.holdings or {}),
            gas_price_wei={loc.id: loc.gas_price_wei for loc in snap.locations if loc.gas_price_wei is not None},
            native={loc.id: loc.native for loc in snap.locations if loc.native is not None},
        )

    def assets(self) -> frozenset[AssetId]:
        """Every asset some venue trades."""
        return frozenset(a for v in self.venues for pair in v.pairs() for a in pair)
