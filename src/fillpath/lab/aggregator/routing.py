"""The lab aggregator's quoting engine: fillpath's own router over the lab pools, settled by ``LabAggregator``.

A quote reads every pool it may route through (the chain's Uniswap V2/V3 pools, its StableSwap pool and the
"LabSwap" pairs only the aggregator knows) at the latest block — once per block —, asks ``fillpath.router`` for
the best split of exactly ``sellAmount`` without the excluded sources, and turns the plan into the settlement
contract's hops: each hop spends a share (in bps) of what the contract holds of its input when it runs, the last
consumer of a token all of it. ``buyAmount`` is then computed hop by hop with the router's exact venue math on
those bps-rounded amounts, so it is exactly what the transaction pays on an unchanged chain (a test holds the two
equal on anvil).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fillpath.chains.readers import ChainSource, PoolRef, TokenRef, read_chain
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.collect.snapshot import assemble
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.contracts import aggregator as agg
from fillpath.model.assets import AssetId
from fillpath.model.errors import FillpathError
from fillpath.router import Market, RouteRequest, route
from fillpath.router.plan import PlanLeg
from fillpath.router.snapshot import read_snapshot
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.stableswap import StableSwapPair, StableSwapPool
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool

SOURCES: Mapping[str, str] = {"uniswap_v2": "Uniswap_V2", "uniswap_v3": "Uniswap_V3", "stableswap": "Curve"}
"""0x's names for the kinds of the chain's own pools; the aggregator-only pairs are ``LabSwap``."""
PRIVATE_SOURCE = "LabSwap"
BASE_GAS = 60_000
"""The settlement's own cost (the holder, the pull, the payment) on top of each hop's."""
MAX_HOPS = 3
SKIM_RECIPIENT = "0x000000000000000000000000000000000005C1a3"
"""Where a skimming quote's undisclosed cut goes (the ``skim`` fault)."""


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """What the service needs of one lab chain (written by ``lab up`` as JSON)."""

    location: str
    chain_id: int
    rpc_url: str
    multicall: str
    holder: str
    aggregator: str
    tokens: tuple[tuple[str, str, int], ...]  # (symbol, address, decimals)
    pools: tuple[tuple[str, str, str], ...]  # (source, kind, address)

    @classmethod
    def from_deployment(cls, dep: LabDeployment, rpc_url: str) -> ServiceConfig:
        pools = [(SOURCES[p.kind], p.kind, p.address) for p in dep.pools]
        pools += [(PRIVATE_SOURCE, p.kind, p.address) for p in dep.aggregator_pools]
        return cls(dep.location, dep.chain_id, rpc_url, dep.address("Multicall3"), dep.address("LabAllowanceHolder"),
                   dep.address("LabAggregator"), tuple((t.symbol, t.address, t.decimals) for t in dep.tokens),
                   tuple(pools))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {"location": self.location, "chain_id": self.chain_id, "rpc_url": self.rpc_url,
                "multicall": self.multicall, "holder": self.holder, "aggregator": self.aggregator,
                "tokens": [list(t) for t in self.tokens], "pools": [list(p) for p in self.pools]}  # fmt: skip

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ServiceConfig:
        return cls(str(d["location"]), int(d["chain_id"]), str(d["rpc_url"]), str(d["multicall"]), str(d["holder"]),
                   str(d["aggregator"]), tuple((str(s), str(a), int(n)) for s, a, n in d["tokens"]),
                   tuple((str(s), str(k), str(a)) for s, k, a in d["pools"]))  # fmt: skip

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2))

    @classmethod
    def read(cls, path: Path) -> ServiceConfig:
        return cls.from_json(json.loads(path.read_text()))

    def sources(self) -> list[str]:
        return sorted({s for s, _, _ in self.pools})


@dataclass(frozen=True, slots=True)
class LabMarket:
    """The routable pools at one block: the router's market, and each venue's source and address."""

    block: int
    block_hash: str
    gas_price: int
    market: Market
    sources: Mapping[str, str]  # venue id → source
    venues: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Fill:
    """One hop of a route, as ``route.fills`` reports it."""

    source: str
    token_in: str
    token_out: str
    bps: int
    amount_in: int
    amount_out: int


@dataclass(frozen=True, slots=True)
class Route:
    hops: tuple[agg.Hop, ...]
    fills: tuple[Fill, ...]
    buy_amount: int
    gas: int


@dataclass
class Quoter:
    """Reads the chain once per block and routes on what it read."""

    cfg: ServiceConfig
    rpc: RpcClient
    _cached: LabMarket | None = field(default=None, repr=False)

    @property
    def token_by_address(self) -> dict[str, tuple[str, str, int]]:
        return {a.lower(): (s, a, d) for s, a, d in self.cfg.tokens}

    async def market(self) -> LabMarket:
        """The pools at the latest block (read again only when the chain moved)."""
        head = await self.rpc.request("eth_getBlockByNumber", ["latest", False])
        block, block_hash = hex_int(head["number"]), str(head["hash"])
        if self._cached is not None and self._cached.block_hash == block_hash:  # by hash: a test may revert the chain
            return self._cached
        src = ChainSource(
            location=self.cfg.location, chain_id=self.cfg.chain_id, multicall=self.cfg.multicall,
            tokens=tuple(TokenRef(s, a, d) for s, a, d in self.cfg.tokens),
            pools=tuple(PoolRef(k, a) for _, k, a in self.cfg.pools), wrapped_native=None,
        )  # fmt: skip
        read = await read_chain(self.rpc, src, block=block)
        snap = read_snapshot(assemble([read], taken_at=datetime.now(UTC)))
        by_address = {a.lower(): s for s, _, a in self.cfg.pools}
        venues = {v.id: v for v in venues_from_snapshot(snap)}
        sources = {vid: by_address[_address(v).lower()] for vid, v in venues.items()}
        gas_price = int(read.location.get("gas_price_wei", "0"))
        self._cached = LabMarket(block, block_hash, gas_price, Market.from_snapshot(snap), sources, venues)
        return self._cached

    def route(self, m: LabMarket, sell: str, buy: str, amount: int, excluded: Sequence[str] = ()) -> Route | None:
        """The best route for exactly ``amount`` of ``sell`` (token addresses), or None when there is none."""
        tokens = self.token_by_address
        if sell.lower() not in tokens or buy.lower() not in tokens or sell.lower() == buy.lower():
            return None
        sell_id = f"{tokens[sell.lower()][0]}@{self.cfg.location}"
        buy_id = f"{tokens[buy.lower()][0]}@{self.cfg.location}"
        exclude = {vid for vid, s in m.sources.items() if s in set(excluded)}
        for _ in range(4):  # a pool used twice (two directions of one StableSwap pool) would change under itself
            request = RouteRequest(sell_id, amount, buy_id, max_hops=MAX_HOPS, gas=False, exclude=frozenset(exclude))
            try:
                plan = route(m.market, request)
            except FillpathError:
                return None
            twice = _reused(plan.legs, m.venues)
            if not twice:
                return self._settle(m, plan.legs, amount)
            exclude |= twice
        return None

    def _settle(self, m: LabMarket, legs: Sequence[PlanLeg], amount: int) -> Route | None:
        """The plan's legs as settlement hops, and what they pay, hop by hop, exactly."""
        tokens = {f"{s}@{self.cfg.location}": a for s, a, _ in self.cfg.tokens}
        last_use = {leg.asset_in: k for k, leg in enumerate(legs)}
        held: dict[AssetId, int] = {legs[0].asset_in: amount}
        hops, fills, gas = [], [], BASE_GAS
        for k, leg in enumerate(legs):
            have = held.get(leg.asset_in, 0)
            if last_use[leg.asset_in] == k:
                bps = agg.BPS
            else:
                bps = min(max(leg.amount_in * agg.BPS // have, 1), agg.BPS - 1) if have else 0
            spend = have if bps == agg.BPS else have * bps // agg.BPS
            if spend <= 0:
                return None
            venue = m.venues[leg.venue]
            got = venue.quote(leg.asset_in, spend)  # type: ignore[attr-defined]
            if got <= 0:
                return None
            held[leg.asset_in] = have - spend
            held[leg.asset_out] = held.get(leg.asset_out, 0) + got
            tin, tout = tokens[str(leg.asset_in)], tokens[str(leg.asset_out)]
            hops.append(_hop(venue, leg, tin, tout, bps))
            fills.append(Fill(m.sources[leg.venue], tin, tout, bps, spend, got))
            gas += int(getattr(venue, "gas", 100_000))
        buy = legs[-1].asset_out
        return Route(tuple(hops), tuple(fills), held.get(buy, 0), gas)


def _address(venue: object) -> str:
    pool = venue.pool if isinstance(venue, StableSwapPair) else venue
    return str(getattr(pool, "address", ""))


def _reused(legs: Sequence[PlanLeg], venues: Mapping[str, object]) -> set[str]:
    """Venue ids of every leg but the largest on a pool the plan uses more than once."""
    by_pool: dict[str, list[PlanLeg]] = {}
    for leg in legs:
        by_pool.setdefault(_address(venues[leg.venue]).lower(), []).append(leg)
    out: set[str] = set()
    for group in by_pool.values():
        if len(group) > 1:
            keep = max(group, key=lambda x: x.amount_in)
            out |= {leg.venue for leg in group if leg is not keep}
    return out


def _hop(venue: object, leg: PlanLeg, token_in: str, token_out: str, bps: int) -> agg.Hop:
    if isinstance(venue, UniswapV2Pair):
        return agg.Hop.v2(venue.address, token_in, token_out, bps, venue.fee_ppm)
    if isinstance(venue, UniswapV3Pool):
        return agg.Hop.v3(venue.address, token_in, token_out, bps)
    if isinstance(venue, StableSwapPair | StableSwapPool):
        pool = venue.pool if isinstance(venue, StableSwapPair) else venue
        i, j = pool.coins.index(leg.asset_in), pool.coins.index(leg.asset_out)
        return agg.Hop.stableswap(pool.address, token_in, token_out, i, j, bps)
    raise ValueError(f"the lab aggregator cannot settle on {type(venue).__name__}")
