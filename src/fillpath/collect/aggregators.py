"""An aggregator's prices as snapshot venues: a few sizes per configured direction, sampled from its API.

The snapshot's ``aggregator`` venue (docs/SNAPSHOT.md) is a curve of ``[amount_in, amount_out]`` points that the
router interpolates linearly and never extends. The collector asks the API's indicative ``price`` endpoint for each
configured size (in flight together, a bounded number at a time) and keeps the points that make a curve: outputs
positive and non-decreasing. An API that is slow or failing costs one timeout, not one per size: after the first
such answer the sizes not yet asked are skipped, and its venues are left out of this snapshot (the route then
goes without it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fillpath.chains.aggregator import Price, ZeroExClient
from fillpath.model.errors import FillpathError, Retryable

DEFAULT_GAS = 200_000
"""A CALL leg's gas when the API gives no estimate."""
CALL_OVERHEAD_GAS = 85_000
"""What the executor's CALL leg adds to the swap itself (exact approval and reset, balance checks; docs/contracts.md),
instead of the 21,000 of a transaction of its own that the API's estimate includes."""
INTRINSIC_GAS = 21_000
IN_FLIGHT = 8


@dataclass(frozen=True, slots=True)
class TokenSide:
    symbol: str
    address: str


@dataclass(frozen=True, slots=True)
class SampledPair:
    """One direction to sample: ``sizes`` in base units of ``sell``, ascending."""

    sell: TokenSide
    buy: TokenSide
    sizes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AggregatorSource:
    """One configured aggregator on one location: its client, its taker (our executor) and what to sample."""

    name: str
    location: str
    client: ZeroExClient
    taker: str | None
    pairs: tuple[SampledPair, ...]


def aggregator_venue_id(location: str, name: str, sell: str, buy: str) -> str:
    """``lab1:aggregator:labagg:WETH>USDC``: the venue id names the aggregator, so a runner finds its API."""
    return f"{location}:aggregator:{name}:{sell}>{buy}"


def aggregator_name(venue_id: str) -> str | None:
    """The aggregator a venue id names (``aggregator_venue_id``'s inverse), or None for another kind of id."""
    parts = venue_id.split(":")
    return parts[2] if len(parts) == 4 and parts[1] == "aggregator" else None


@dataclass(frozen=True, slots=True)
class AggregatorRead:
    venues: list[dict[str, Any]]
    problems: list[str]
    """Why a venue is missing (the API's error, no liquidity): for the snapshot's reader, not the router."""


async def read_aggregator(src: AggregatorSource) -> AggregatorRead:
    """Every configured direction of one aggregator, sampled now."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    down: list[FillpathError] = []

    async def one(pair: SampledPair, size: int) -> Price | FillpathError | None:
        async with gate:
            if down:  # slow or failing: one timeout is enough to know
                return down[0]
            try:
                return await src.client.price(pair.sell.address, pair.buy.address, size, src.taker)
            except FillpathError as exc:
                if isinstance(exc, Retryable):
                    down.append(exc)
                return exc

    asks = [(pair, size) for pair in src.pairs for size in pair.sizes]
    answers = await asyncio.gather(*(one(pair, size) for pair, size in asks))
    venues: list[dict[str, Any]] = []
    problems: list[str] = []
    k = 0
    for pair in src.pairs:
        got = answers[k : k + len(pair.sizes)]
        k += len(pair.sizes)
        vid = aggregator_venue_id(src.location, src.name, pair.sell.symbol, pair.buy.symbol)
        errors = [a for a in got if isinstance(a, FillpathError)]
        if errors:
            problems.append(f"{vid}: {errors[0]}")
            continue
        samples: list[tuple[int, int]] = []
        gas = 0
        for price in got:
            if not isinstance(price, Price) or price.buy_amount <= 0:
                continue
            if samples and price.buy_amount < samples[-1][1]:
                continue  # not a curve: a larger size that pays less says nothing the smaller does not
            samples.append((price.sell_amount, price.buy_amount))
            gas = max(gas, price.gas or 0)
        if not samples:
            problems.append(f"{vid}: no liquidity at any sampled size")
            continue
        venues.append({
            "kind": "aggregator", "id": vid, "location": src.location,
            "token_in": f"{pair.sell.symbol}@{src.location}", "token_out": f"{pair.buy.symbol}@{src.location}",
            "samples": [[str(a), str(b)] for a, b in samples],
            "gas": str(max(gas - INTRINSIC_GAS, 0) + CALL_OVERHEAD_GAS if gas else DEFAULT_GAS),
        })  # fmt: skip
    return AggregatorRead(venues, problems)


async def read_aggregators(sources: Sequence[AggregatorSource]) -> AggregatorRead:
    reads = await asyncio.gather(*(read_aggregator(s) for s in sources))
    return AggregatorRead([v for r in reads for v in r.venues], [p for r in reads for p in r.problems])
