"""Gas and waiting, valued in the buy asset's base units (exact Fractions; floats only for the solver).

Gas is a fixed cost per venue used: gas units × the location's gas price (wei of its native asset),
converted with ``prices``. Waiting costs ``latency_cost_bps_per_hour`` of the value moved per hour of a
venue's ``latency_s`` (bridges and transfers expose it; other venues take none) — a cost linear in the
input, so the solver can treat it as a fee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.market import NATIVE_DECIMALS, Market
from fillpath.router.request import Endpoints, RouteRequest
from fillpath.router.venues.base import Venue

_ZERO = Fraction(0)


@dataclass(frozen=True)
class Costs:
    market: Market
    buy_ref: AssetId
    buy_decimals: int
    gas_on: bool
    latency_bps_per_hour: int
    _rates: dict[AssetId, Fraction] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, market: Market, ends: Endpoints, request: RouteRequest) -> Costs:
        ref = min(ends.sinks, key=lambda a: (a not in market.prices, str(a)))
        return cls(market, ref, ends.buy_decimals, request.gas, request.latency_cost_bps_per_hour)

    def _decimals(self, asset: AssetId, default: int | None = None) -> int:
        d = self.market.decimals.get(asset, default)
        if d is None:
            raise InvalidInput(f"decimals.{asset}", "missing", "the market must give every asset's decimals")
        return d

    def to_buy(self, asset: AssetId, default_decimals: int | None = None) -> Fraction:
        """Buy-asset base units per base unit of ``asset``, from ``prices``."""
        cached = self._rates.get(asset)
        if cached is None:
            cached = self._rates[asset] = self._to_buy(asset, default_decimals)
        return cached

    def _to_buy(self, asset: AssetId, default_decimals: int | None) -> Fraction:
        if asset.symbol == self.buy_ref.symbol and self._decimals(asset, default_decimals) == self.buy_decimals:
            return Fraction(1)
        p_in = self.market.prices.get(asset)
        p_out = self.market.prices.get(self.buy_ref)
        if p_in is None or not p_out:
            missing = asset if p_in is None else self.buy_ref
            raise InvalidInput(f"prices.{missing}", "missing", "costs in other assets need prices for both")
        scale = Fraction(10**self.buy_decimals, 10 ** self._decimals(asset, default_decimals))
        return Fraction(p_in) / Fraction(p_out) * scale

    def gas(self, venue: Venue) -> Fraction:
        """What using ``venue`` at all costs in buy base units (0 with gas off or gas-free venues)."""
        wei = self.gas_wei(venue)
        return wei * self.wei_to_buy(venue.location) if wei else Fraction(0)

    def gas_wei(self, venue: Venue) -> int:
        """Gas of using ``venue`` in wei of its location's native asset (0 with gas off)."""
        if not self.gas_on or venue.gas <= 0:
            return 0
        return venue.gas * self.market.gas_price_wei.get(venue.location, 0)

    def wei_to_buy(self, location: str) -> Fraction:
        """Buy base units per wei of ``location``'s native asset."""
        native = self.market.native.get(location)
        if native is None:
            raise InvalidInput(f"locations.{location}.native", "missing", "needed to price gas")
        return self.to_buy(native, NATIVE_DECIMALS)

    def latency_per_unit(self, venue: Venue, asset_in: AssetId) -> Fraction:
        """Waiting cost per base unit of input through ``venue``, in buy base units."""
        if self.latency_bps_per_hour <= 0:
            return _ZERO  # before getattr: a missing attribute costs an exception per venue
        latency = int(getattr(venue, "latency_s", 0) or 0)
        if latency <= 0:
            return _ZERO
        return Fraction(self.latency_bps_per_hour * latency, 10_000 * 3600) * self.to_buy(asset_in)
