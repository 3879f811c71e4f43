"""The composition root: turns a ``Config`` into the adapters the commands use. Nothing else wires objects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from fillpath.cex.binance_urls import sim_binance
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.factory import connector_from_config
from fillpath.chains.balances import ChainBalances
from fillpath.chains.lab.manager import Lab
from fillpath.chains.readers import ChainSource, PoolRef, TokenRef
from fillpath.chains.rpc import RpcClient
from fillpath.config import Config
from fillpath.execution.killswitch import KillSwitch
from fillpath.model.errors import InvalidInput, LabError
from fillpath.state.store import Store

CANONICAL_MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"


def chain_sources(cfg: Config) -> list[tuple[RpcClient, ChainSource]]:
    """One RPC client and one read plan per EVM location: the running lab's, or the configured ones."""
    if cfg.lab:
        return _lab_sources(cfg)
    out = []
    for name, loc in cfg.locations.items():
        tokens = tuple(TokenRef(t.symbol, t.address, t.decimals) for t in cfg.tokens if t.location == name)
        pools = tuple(PoolRef(p.kind, p.address) for p in cfg.pools if p.location == name)
        holder = next((a.address for a in cfg.accounts.values() if a.address), None)
        src = ChainSource(
            location=name,
            chain_id=loc.chain_id,
            multicall=loc.multicall or CANONICAL_MULTICALL3,
            tokens=tokens,
            pools=pools,
            native=loc.native,
            holder=holder,
        )
        out.append((RpcClient(name, loc.rpc), src))
    if not out:
        raise InvalidInput(f"{cfg.source}: locations", "no EVM location is configured", "add a [locations.NAME] table")
    return out


def _lab_sources(cfg: Config) -> list[tuple[RpcClient, ChainSource]]:
    nodes = Lab(cfg.data_dir).status()
    down = [n.location for n in nodes if not n.responding]
    if down:
        raise LabError(f"the lab is not running ({', '.join(down)} down); start it with `fillpath lab up`")
    out = []
    for n in nodes:
        assert n.deployment is not None and n.rpc_url is not None
        out.append((RpcClient(n.location, [n.rpc_url]), n.deployment.chain_source()))
    return out


def open_store(cfg: Config) -> Store:
    """The configured store (SQLite in the data directory by default), migrated to the current schema."""
    if cfg.database_url is None:
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(cfg.resolved_database_url)


def balance_sources(cfg: Config) -> list[ChainBalances | CcxtConnector]:
    """Every venue whose balances reconciliation reads: each chain's holder, each exchange account."""
    chains: list[ChainBalances | CcxtConnector] = [
        ChainBalances(rpc, src) for rpc, src in chain_sources(cfg) if src.holder
    ]
    return chains + list(exchange_connectors(cfg))


def kill_switch(cfg: Config) -> KillSwitch:
    return KillSwitch(cfg.risk.kill_switch_file or cfg.data_dir / "HALT")


def exchange_connectors(cfg: Config) -> list[CcxtConnector]:
    """One connector per exchange: the lab's simulator (``labex``), or each configured [exchanges.NAME]."""
    if cfg.lab:
        lab = Lab(cfg.data_dir)
        status = lab.exchange_status()
        if not status.responding or status.url is None:
            raise LabError(f"the lab's exchange is not running ({status.problem}); start it with `fillpath lab up`")
        creds = lab.exchange_credentials()
        return [CcxtConnector(sim_binance(status.url, creds.api_key, creds.secret), location=status.location)]
    return [connector_from_config(name, ex) for name, ex in cfg.exchanges.items()]


class Closable(Protocol):
    async def close(self) -> None: ...


async def close_all(items: Iterable[Closable]) -> None:
    """Close every RPC client and exchange session (ccxt warns about, and leaks, unclosed ones)."""
    for item in items:
        await item.close()
