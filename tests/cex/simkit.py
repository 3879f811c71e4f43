"""Shared test helpers for the simulator: the running-simulator handle and a test config."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from fillpath.lab.exchange import SimConfig, SimServer

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

    async def user_streams(self, count: int = 1) -> None:
        """Wait until ``count`` user-data subscriptions of our key are live on the venue."""
        hub = self.server.venue.hub
        for _ in range(500):
            if hub.user_streams(self.api_key) >= count:
                await asyncio.sleep(0.05)  # and ccxt has registered its watch on it
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("no user data subscription")

    async def requests(self) -> list[dict[str, Any]]:
        return list(await self.admin("GET", "/admin/requests"))


def sim_config(**changes: Any) -> SimConfig:
    from fillpath.lab.exchange.config import DEFAULT_BALANCES, AccountSpec

    base = SimConfig(accounts=(AccountSpec(KEY, SECRET, DEFAULT_BALANCES),), seed=7, walk_interval=0)
    return dataclasses.replace(base, **changes)
