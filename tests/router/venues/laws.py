"""Laws every venue's curve obeys, checked on the amounts a test gives (shared by the per-kind tests)."""

from __future__ import annotations

from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.router.venues.base import Venue


def check_monotone(venue: Venue, asset_in: AssetId, amounts: list[int]) -> None:
    amounts = sorted(amounts)
    quotes = [venue.quote(asset_in, a) for a in amounts]
    assert quotes == sorted(quotes), (amounts, quotes)
    assert all(q >= 0 for q in quotes)


def check_marginal_non_increasing(venue: Venue, asset_in: AssetId, amounts: list[int]) -> None:
    amounts = sorted(amounts)
    rates = [venue.marginal_rate(asset_in, a) for a in amounts]
    assert rates == sorted(rates, reverse=True), (amounts, rates)


def check_inverse(venue: Venue, asset_in: AssetId, rate: Fraction) -> None:
    """amount_at_rate(r) is the last input whose marginal rate is still >= r."""
    x = venue.amount_at_rate(asset_in, rate)
    cap = venue.capacity(asset_in)
    assert x >= 0
    if cap is not None:
        assert x <= cap
    if x > 0:
        # At capacity the curve ends; its last unit still traded at >= rate.
        at = x - 1 if x == cap else x
        assert venue.marginal_rate(asset_in, at) >= rate
    if cap is None or x < cap:
        assert venue.marginal_rate(asset_in, x + 1) < rate


def check_rate_bounds_quote(venue: Venue, asset_in: AssetId, amount: int, slack: int = 0) -> None:
    """Concavity in its exact form: output of a trade never beats the starting marginal rate (``slack``
    base units allow for a venue's own integer rounding, e.g. StableSwap's Newton iterations)."""
    assert venue.quote(asset_in, amount) <= venue.marginal_rate(asset_in, 0) * amount + slack
