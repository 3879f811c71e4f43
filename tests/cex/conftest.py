"""Fixtures: a simulator on a free loopback port per test, and ccxt's real binance pointed at it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from fillpath.cex.binance_urls import sim_binance
from fillpath.cex.sim import SimConfig, SimServer

KEY, SECRET = "test-key", "test-secret"


@dataclass
class Sim:
    """A running simulator: its URL, the funded credentials, and the admin API."""

    url: str
    api_key: str
    secret: str
    server: SimServer
    http: aiohttp.ClientSession

    async def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.request(method, self.url + path, data=json.dumps(body or {})) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def faults(self, **profiles: dict[str, str]) -> Any:
        return await self.admin("POST", "/admin/faults", {"profiles": profiles})

    async def requests(self) -> list[dict[str, Any]]:
        return list(await self.admin("GET", "/admin/requests"))


def sim_config(**changes: Any) -> SimConfig:
    from fillpath.cex.sim.config import DEFAULT_BALANCES, AccountSpec

    base = SimConfig(accounts=(AccountSpec(KEY, SECRET, DEFAULT_BALANCES),), seed=7, walk_interval=0)
    return dataclasses.replace(base, **changes)


@pytest.fixture
def config() -> SimConfig:
    return sim_config()


@pytest.fixture
async def sim(config: SimConfig) -> AsyncIterator[Sim]:
    async with SimServer(config) as server, aiohttp.ClientSession() as http:
        yield Sim(server.url, KEY, SECRET, server, http)


@pytest.fixture
async def make_exchange(sim: Sim) -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(*, pro: bool = False, api_key: str | None = None, secret: str | None = None, **config: Any) -> Any:
        exchange = sim_binance(sim.url, api_key or sim.api_key, secret or sim.secret, pro=pro, **config)
        made.append(exchange)
        return exchange

    yield make
    for exchange in made:
        await exchange.close()


@pytest.fixture
async def exchange(make_exchange: Callable[..., Any]) -> Any:
    ex = make_exchange()
    await ex.load_markets()
    return ex
