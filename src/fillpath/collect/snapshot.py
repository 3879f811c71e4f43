"""Assemble a ``fillpath.snapshot/1`` document from what the collectors read."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from fillpath.chains.readers import ChainRead, ChainSource, read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.collect.prices import derive_prices

SNAPSHOT_FORMAT = "fillpath.snapshot/1"
DEFAULT_ANCHORS: Mapping[str, Fraction] = {"USDC": Fraction(1)}


def assemble(
    reads: Sequence[ChainRead], *, taken_at: datetime, anchors: Mapping[str, Fraction] = DEFAULT_ANCHORS
) -> dict[str, Any]:
    assets = [a for r in reads for a in r.assets]
    venues = [v for r in reads for v in r.venues]
    decimals = {a["id"]: int(a["decimals"]) for a in assets}
    holdings = {k: v for r in reads for k, v in r.holdings.items() if int(v) > 0}
    return {
        "format": SNAPSHOT_FORMAT,
        "taken_at": taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "assets": assets,
        "locations": [r.location for r in reads],
        "prices": derive_prices(venues, decimals, anchors),
        "holdings": holdings,
        "venues": venues,
    }


async def take_snapshot(
    sources: Sequence[tuple[RpcClient, ChainSource]], *, taken_at: datetime | None = None
) -> dict[str, Any]:
    """Read every chain concurrently (each at its own single block) and assemble one snapshot."""
    reads = await asyncio.gather(*(read_chain(rpc, src) for rpc, src in sources))
    return assemble(reads, taken_at=taken_at or datetime.now(UTC))
