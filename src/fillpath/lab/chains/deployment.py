"""What a lab deployment produced: addresses by name, tokens and pools. Serializable; the lab's state file holds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fillpath.chains.readers import ChainSource


@dataclass(frozen=True, slots=True)
class DeployedToken:
    symbol: str
    address: str
    decimals: int


@dataclass(frozen=True, slots=True)
class DeployedPool:
    kind: str  # "uniswap_v2" | "uniswap_v3" | "stableswap"
    address: str
    token0: str  # symbol (a StableSwap pool: its first two coins, all of them in ``coins``)
    token1: str
    fee_ppm: int
    tick_spacing: int | None = None
    coins: tuple[str, ...] = ()
    """A StableSwap pool's coins in pool order (coin i is ``coins[i]``)."""

    def symbols(self) -> tuple[str, ...]:
        return self.coins or (self.token0, self.token1)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "address": self.address,
            "token0": self.token0,
            "token1": self.token1,
            "fee_ppm": self.fee_ppm,
            "tick_spacing": self.tick_spacing,
        }
        if self.coins:
            out["coins"] = list(self.coins)
        return out

    @classmethod
    def from_json(cls, p: dict[str, Any]) -> DeployedPool:
        return cls(p["kind"], p["address"], p["token0"], p["token1"], int(p["fee_ppm"]), p.get("tick_spacing"),
                   tuple(p.get("coins", ())))  # fmt: skip


@dataclass(frozen=True, slots=True)
class LabDeployment:
    location: str
    chain_id: int
    dev: str
    contracts: tuple[tuple[str, str], ...]
    tokens: tuple[DeployedToken, ...]
    pools: tuple[DeployedPool, ...]
    aggregator_pools: tuple[DeployedPool, ...] = ()
    """Pools only the lab aggregator routes through (a second V2 factory): not in fillpath's configuration."""

    def address(self, name: str) -> str:
        for n, a in self.contracts:
            if n == name:
                return a
        for t in self.tokens:
            if t.symbol == name:
                return t.address
        raise KeyError(name)

    def token(self, symbol: str) -> DeployedToken:
        for t in self.tokens:
            if t.symbol == symbol:
                return t
        raise KeyError(symbol)

    def pool(self, kind: str, a: str, b: str, fee_ppm: int | None = None) -> DeployedPool:
        for p in self.pools:
            if p.kind == kind and {a, b} <= set(p.symbols()) and fee_ppm in (None, p.fee_ppm):
                return p
        raise KeyError(f"{kind} {a}/{b} {fee_ppm}")

    def chain_source(self, holder: str | None = None) -> ChainSource:
        """What readers read on this chain: every lab token and pool, and the balances of ``holder``.

        The default holder is the development account (what tests that trade as it want); the live read plan
        (``app.chain_sources``) passes the lab trader.
        """
        from fillpath.chains.readers import ChainSource, PoolRef, TokenRef

        return ChainSource(
            location=self.location,
            chain_id=self.chain_id,
            multicall=self.address("Multicall3"),
            tokens=tuple(TokenRef(t.symbol, t.address, t.decimals) for t in self.tokens),
            pools=tuple(PoolRef(p.kind, p.address) for p in self.pools),
            holder=holder or self.dev,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "chain_id": self.chain_id,
            "dev": self.dev,
            "contracts": dict(self.contracts),
            "tokens": {t.symbol: {"address": t.address, "decimals": t.decimals} for t in self.tokens},
            "pools": [p.to_json() for p in self.pools],
            "aggregator_pools": [p.to_json() for p in self.aggregator_pools],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabDeployment:
        return cls(
            location=data["location"],
            chain_id=int(data["chain_id"]),
            dev=data["dev"],
            contracts=tuple((k, v) for k, v in data["contracts"].items()),
            tokens=tuple(DeployedToken(s, t["address"], int(t["decimals"])) for s, t in data["tokens"].items()),
            pools=tuple(DeployedPool.from_json(p) for p in data["pools"]),
            aggregator_pools=tuple(DeployedPool.from_json(p) for p in data.get("aggregator_pools", ())),
        )
