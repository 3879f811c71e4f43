"""Venues from a parsed snapshot: what the optimizer quotes on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fillpath.router.venues.base import Venue
from fillpath.router.venues.stableswap import StableSwapPool

if TYPE_CHECKING:
    from fillpath.router.snapshot import Snapshot


def venues_from_snapshot(snapshot: Snapshot) -> tuple[Venue, ...]:
    """Every venue of the snapshot, ready to quote.

    A venue read from a snapshot is already its quoting object, except StableSwap pools with more than two
    coins: ``Venue.quote`` names only the input asset, so such a pool becomes one view per ordered coin pair
    (ids ``<pool id>:<i>-><j>``). The views share the pool's balances but are quoted independently.
    """
    venues: list[Venue] = []
    for venue in snapshot.venues:
        if isinstance(venue, StableSwapPool) and len(venue.coins) > 2:
            venues.extend(venue.pair_view(a, b) for a, b in venue.pairs())
        else:
            venues.append(venue)
    return tuple(venues)
