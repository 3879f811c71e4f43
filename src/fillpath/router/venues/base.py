"""The interface every venue kind implements. The optimizer sees venues only through this.

Amounts are ``int`` base units of the asset they are in. Rates are exact ``Fraction`` s of
(base units out) per (base unit in). ``quote`` is the venue's exact integer result on the snapshot state;
``marginal_rate`` and ``amount_at_rate`` describe the (concave) curve for the optimizer and may be exact
or, where the venue is piecewise, exact per piece.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol, runtime_checkable

from fillpath.model.assets import AssetId


@runtime_checkable
class Venue(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def location(self) -> str: ...

    @property
    def gas(self) -> int:
        """Gas units charged once if the venue is used at all (0 for off-chain venues)."""
        ...

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        """Every tradable direction ``(asset_in, asset_out)``."""
        ...

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        """Exact output for ``amount_in`` of ``asset_in`` on the snapshot state (0 if it cannot trade)."""
        ...

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        """d(out)/d(in) just after ``amount_in`` has been traded (non-increasing in ``amount_in``)."""
        ...

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        """The largest input at which the marginal rate is still >= ``rate`` (the inverse of marginal_rate),
        capped at ``capacity``."""
        ...

    def capacity(self, asset_in: AssetId) -> int | None:
        """The largest input this venue accepts in that direction, or None if unbounded."""
        ...
