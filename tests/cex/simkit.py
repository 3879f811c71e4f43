"""Shared test helpers for the simulator: the running-simulator handle and a test config."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from fillpath.lab.exchange import SimConfig, SimServer

KEY, SECRET, PASSPHRASE = "test-key", "test-secret", "test-passphrase"
DIALECTS = ("binance", "okx")
TIME_PATH = {"binance": "/api/v3/time", "okx": "/api/v5/public/time"}
"""A public REST path of each dialect (for requests made beside ccxt)."""
USER_CHANNELS = {"binance": 1, "okx": 2}
"""User-data subscriptions a ccxt.pro client opens to watch orders and balances: Binance one WebSocket API
subscription, OKX two channels (``orders`` and ``account``) on one private connection."""


@dataclass
class Sim:
    """A running simulator: its URL, the funded credentials, and the admin API."""

    url: str
    api_key: str
    secret: str
    server: SimServer
    http: aiohttp.ClientSession
    passphrase: str = PASSPHRASE

    @property
    def dialect(self) -> str:
        return self.server.venue.config.dialect

    async def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.request(method, self.url + path, data=json.dumps(body or {})) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def faults(self, **profiles: dict[str, str]) -> Any:
        return await self.admin("POST", "/admin/faults", {"profiles": profiles})

    async def user_streams(self, count: int | None = None) -> None:
        """Wait until ``count`` user-data subscriptions of our key are live on the venue (by default, what one
        ccxt.pro client watching orders and balances opens)."""
        hub = self.server.venue.hub
        wanted = USER_CHANNELS[self.dialect] if count is None else count
        for _ in range(500):
            if hub.user_streams(self.api_key) >= wanted:
                await asyncio.sleep(0.05)  # and ccxt has registered its watch on it
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("no user data subscription")

    async def requests(self) -> list[dict[str, Any]]:
        return list(await self.admin("GET", "/admin/requests"))


def sim_config(**changes: Any) -> SimConfig:
    from fillpath.lab.exchange.config import DEFAULT_BALANCES, AccountSpec

    account = AccountSpec(KEY, SECRET, DEFAULT_BALANCES, PASSPHRASE)
    base = SimConfig(accounts=(account,), seed=7, walk_interval=0)
    return dataclasses.replace(base, **changes)
