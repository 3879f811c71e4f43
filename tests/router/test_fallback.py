"""Venues without a ``float_curve`` go through the exact-Protocol fallback and route the same."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
from fillpath.router.curves import ExactCurve, curve_for
from tests.router.helpers import check_plan
from tests.router.networks import network, value_units
from tests.router.opt_venues import CPVenue


@dataclass(frozen=True, eq=False)
class Opaque:
    """Only the Venue Protocol, as a venue kind from another module would offer."""

    inner: CPVenue

    @property
    def id(self) -> str:
        return self.inner.id

    @property
    def location(self) -> str:
        return self.inner.location

    @property
    def gas(self) -> int:
        return self.inner.gas

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return self.inner.pairs()

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        return self.inner.quote(asset_in, amount_in)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        return self.inner.marginal_rate(asset_in, amount_in)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        return self.inner.amount_at_rate(asset_in, rate)

    def capacity(self, asset_in: AssetId) -> int | None:
        return self.inner.capacity(asset_in)


def test_exact_fallback_routes_like_the_float_view() -> None:
    market, assets = network(11, 6, 14)
    opaque = Market(
        tuple(Opaque(v) for v in market.venues if isinstance(v, CPVenue)),
        market.decimals,
        market.prices,
        market.holdings,
        market.gas_price_wei,
        market.native,
    )
    assert isinstance(curve_for(opaque.venues[0], assets[0]), ExactCurve)
    amount = value_units(market, assets[0], 2e5)
    req = RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=3, gas=False)
    fast = route(market, req)
    slow = route(opaque, req)
    check_plan(opaque, slow, {assets[0]: amount}, {assets[1]}, 50)
    assert abs(slow.expected_out - fast.expected_out) <= fast.expected_out * 1e-6
