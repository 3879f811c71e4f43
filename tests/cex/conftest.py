"""Fixtures: a simulator on a free loopback port per test (Binance's API unless a module asks for another
``dialect``), and ccxt's real class of that exchange pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from simkit import KEY, PASSPHRASE, SECRET, Sim, sim_config

from fillpath.lab.exchange import SimConfig, SimServer
from fillpath.lab.exchange.binance import sim_binance
from fillpath.lab.exchange.okx.client import sim_okx


@pytest.fixture
def dialect() -> str:
    """The API the simulator speaks; a module or class overrides it (or parametrizes it over ``DIALECTS``)."""
    return "binance"


@pytest.fixture
def config(dialect: str) -> SimConfig:
    return sim_config(dialect=dialect)


@pytest.fixture
async def sim(config: SimConfig) -> AsyncIterator[Sim]:
    async with SimServer(config) as server, aiohttp.ClientSession() as http:
        yield Sim(server.url, KEY, SECRET, server, http, PASSPHRASE)


@pytest.fixture
async def make_exchange(sim: Sim) -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(
        *, pro: bool = False, api_key: str | None = None, secret: str | None = None, passphrase: str | None = None,
        **config: Any,
    ) -> Any:  # fmt: skip
        config.setdefault("enableRateLimit", False)  # ccxt's client-side throttle only slows the suite down
        key, secret = api_key or sim.api_key, secret or sim.secret
        if sim.dialect == "okx":
            exchange = sim_okx(sim.url, key, secret, passphrase or sim.passphrase, pro=pro, **config)
        else:
            exchange = sim_binance(sim.url, key, secret, pro=pro, **config)
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
