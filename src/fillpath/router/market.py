"""What the router may know about the market at one instant, independent of the snapshot file format.

The snapshot reader (another module) builds this; the optimizer only needs venues plus the numbers that
turn gas and waiting into the buy asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.router.venues.base import Venue

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

    def assets(self) -> frozenset[AssetId]:
        """Every asset some venue trades."""
        return frozenset(a for v in self.venues for pair in v.pairs() for a in pair)
