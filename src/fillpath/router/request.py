"""A routing request and its resolution into source and sink nodes of the asset@location graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.market import Market


@dataclass(frozen=True)
class RouteRequest:
    """``sell``/``buy`` are ``SYMBOL@LOCATION`` or a bare symbol (see SNAPSHOT.md "Request")."""

    sell: str
    amount: int
    buy: str
    max_hops: int = 4
    slippage_bps: int = 50
    gas: bool = True
    latency_cost_bps_per_hour: int = 0
    exclude: frozenset[str] = frozenset()
    penalty_bps: Mapping[str, int] = field(default_factory=dict)
    """Venue id → bps: the optimizer counts that venue's output as this much smaller when it chooses the split
    (a degraded venue gets less flow; 10,000 removes it). The plan's amounts stay the venue's exact quotes."""

    def __post_init__(self) -> None:
        for venue, bps in self.penalty_bps.items():
            if isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= 10_000:
                raise InvalidInput(f"penalty_bps.{venue}", f"{bps!r} is out of range", "use an integer 0 to 10000")
        object.__setattr__(self, "penalty_bps", MappingProxyType(dict(self.penalty_bps)))
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise InvalidInput("amount", f"{self.amount!r} is not a positive integer", "give base units")
        if not 1 <= self.max_hops <= 8:
            raise InvalidInput("max_hops", f"{self.max_hops} is out of range", "use 1 to 8")
        if not 0 <= self.slippage_bps < 10_000:
            raise InvalidInput("slippage_bps", f"{self.slippage_bps} is out of range", "use 0 to 9999")
        if self.latency_cost_bps_per_hour < 0:
            raise InvalidInput("latency_cost_bps_per_hour", "is negative", "use 0 or more")


@dataclass(frozen=True)
class Endpoints:
    """Resolved request: source nodes with the most each may give, and the nodes where output counts."""

    sources: tuple[tuple[AssetId, int], ...]
    sinks: frozenset[AssetId]
    sell_label: str
    buy_label: str
    sell_decimals: int
    buy_decimals: int


def _one_decimals(market: Market, assets: list[AssetId], field: str) -> int:
    """Summing amounts across locations needs one unit: refuse a symbol whose locations disagree."""
    found = {market.decimals[a] for a in assets if a in market.decimals}
    if len(found) > 1:
        raise InvalidInput(field, f"{assets[0].symbol} has different decimals across locations", "name one location")
    if not found:
        raise InvalidInput(field, f"no decimals known for {assets[0].symbol}", "add the asset to the market")
    return found.pop()


def resolve(market: Market, request: RouteRequest) -> Endpoints:
    """Turn the request's asset names into graph nodes; bare symbols expand per SNAPSHOT.md."""
    # the market's own instances, so that every later dict and set lookup of the route matches by identity
    # (equal ids from the request's text compared field by field were 50,000 __eq__ calls on 10,000 venues)
    traded = market.memo.get("traded", lambda: {a: a for a in market.assets()})  # every venue's pairs: once
    if "," in request.sell:
        sources = _listed_sources(market, request, traded)
    elif "@" in request.sell:
        sell = AssetId.parse(request.sell, field="sell")
        if sell not in traded:
            raise InvalidInput("sell", f"no venue trades {sell}", "check the asset id")
        sources = ((sell, request.amount),)
    else:
        sources = _held_sources(market, request.sell, request.amount)
    sources = tuple((traded.get(a, a), n) for a, n in sources)
    if "@" in request.buy:
        buy = AssetId.parse(request.buy, field="buy")
        sinks = [traded.get(buy, buy)]
    else:
        sinks = sorted(a for a in traded if a.symbol == request.buy)
    if not sinks or not any(s in traded for s in sinks):
        raise InvalidInput("buy", f"no venue trades {request.buy}", "check the asset id or symbol")
    if {a for a, _ in sources} & set(sinks):
        raise InvalidInput("buy", "the buy asset is the sell asset", "choose a different asset")
    return Endpoints(
        sources=sources,
        sinks=frozenset(sinks),
        sell_label=request.sell,
        buy_label=request.buy,
        sell_decimals=_one_decimals(market, [a for a, _ in sources], "sell"),
        buy_decimals=_one_decimals(market, sinks, "buy"),
    )


def _held_sources(market: Market, symbol: str, amount: int) -> tuple[tuple[AssetId, int], ...]:
    held = sorted(a for a, n in market.holdings.items() if a.symbol == symbol and n > 0)
    if not held:
        raise InvalidInput("sell", f"no holdings of {symbol}", "name a location: SYMBOL@LOCATION")
    total = sum(market.holdings[a] for a in held)
    if total < amount:
        raise InvalidInput("amount", f"holdings of {symbol} total {total}", "sell at most that")
    return tuple((a, min(market.holdings[a], amount)) for a in held)


def _listed_sources(
    market: Market, request: RouteRequest, traded: Mapping[AssetId, AssetId]
) -> tuple[tuple[AssetId, int], ...]:
    """``WETH@lab1,ETH@labex``: sell from each listed asset (or symbol) up to what ``holdings`` has there.

    An extension of SNAPSHOT.md's request for inventory held as different assets of one unit (ETH and WETH):
    the optimizer chooses how much comes from each; every listed asset must have the same decimals.
    """
    found: dict[AssetId, int] = {}
    for part in (p.strip() for p in request.sell.split(",")):
        if not part:
            raise InvalidInput("sell", f"{request.sell!r} has an empty item", "list assets as A@X,B@Y")
        if "@" in part:
            asset = AssetId.parse(part, field="sell")
            if asset not in traded:
                raise InvalidInput("sell", f"no venue trades {asset}", "check the asset id")
            held = market.holdings.get(asset, 0)
            if held <= 0:
                raise InvalidInput("sell", f"no holdings of {asset}", "list only assets held")
            found[asset] = held
        else:
            for a in sorted(a for a, n in market.holdings.items() if a.symbol == part and n > 0):
                found[a] = market.holdings[a]
    total = sum(found.values())
    if total < request.amount:
        raise InvalidInput("amount", f"holdings of {request.sell} total {total}", "sell at most that")
    return tuple((a, min(n, request.amount)) for a, n in sorted(found.items()))
