"""Fixtures: a simulator on a free loopback port per test, and ccxt's real binance pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from simkit import KEY, SECRET, Sim, sim_config

from fillpath.lab.exchange import SimConfig, SimServer
from fillpath.lab.exchange.binance import sim_binance


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
        config.setdefault("enableRateLimit", False)  # ccxt's client-side throttle only slows the suite down
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
