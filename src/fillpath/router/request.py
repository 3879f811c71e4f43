"""A routing request and its resolution into source and sink nodes of the asset@location graph."""

from __future__ import annotations

from dataclasses import dataclass

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

    def __post_init__(self) -> None:
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
    traded = market.assets()
    if "@" in request.sell:
        sell = AssetId.parse(request.sell, field="sell")
        if sell not in traded:
            raise InvalidInput("sell", f"no venue trades {sell}", "check the asset id")
        sources: tuple[tuple[AssetId, int], ...] = ((sell, request.amount),)
    else:
        held = sorted(a for a, n in market.holdings.items() if a.symbol == request.sell and n > 0)
        if not held:
            raise InvalidInput("sell", f"no holdings of {request.sell}", "name a location: SYMBOL@LOCATION")
        total = sum(market.holdings[a] for a in held)
        if total < request.amount:
            raise InvalidInput("amount", f"holdings of {request.sell} total {total}", "sell at most that")
        sources = tuple((a, min(market.holdings[a], request.amount)) for a in held)
    if "@" in request.buy:
        buy = AssetId.parse(request.buy, field="buy")
        sinks = [buy]
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
