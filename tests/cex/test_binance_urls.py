"""The URL override leaves no API family pointing at the real exchange."""

from __future__ import annotations

import json

import ccxt.async_support
import ccxt.pro
import pytest

from fillpath.cex.binance.urls import point_binance_at, rewrite_urls
from fillpath.lab.exchange.binance import SIM_BINANCE_OPTIONS, sim_binance


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("cls", [ccxt.async_support.binance, ccxt.pro.binance])
async def test_every_api_url_is_rewritten(cls: type) -> None:
    exchange = cls()
    try:
        point_binance_at(exchange, "http://127.0.0.1:8123")
        urls = _strings(exchange.urls["api"])
        assert urls
        assert all(u.startswith(("http://127.0.0.1:8123/", "ws://127.0.0.1:8123/")) for u in urls)
        assert exchange.urls["api"]["public"] == "http://127.0.0.1:8123/api/v3"
        assert exchange.urls["api"]["sapi"] == "http://127.0.0.1:8123/sapi/v1"
        if cls is ccxt.pro.binance:
            assert exchange.urls["api"]["ws"]["spot"] == "ws://127.0.0.1:8123/ws"
            assert exchange.urls["api"]["ws"]["ws-api"]["spot"] == "ws://127.0.0.1:8123/ws-api/v3"
    finally:
        await exchange.close()


async def test_the_simulator_client_sets_the_spot_only_options() -> None:
    exchange = sim_binance("http://127.0.0.1:8123", "k", "s")
    try:
        assert exchange.urls["api"]["public"] == "http://127.0.0.1:8123/api/v3"
        for key, value in SIM_BINANCE_OPTIONS.items():
            assert exchange.options[key] == value
    finally:
        await exchange.close()


def test_https_base_gives_wss() -> None:
    urls = rewrite_urls({"a": "https://x.binance.com/api/v3", "b": {"c": "wss://s.binance.com:9443/ws"}}, "https://h:1")
    assert json.dumps(urls) == json.dumps({"a": "https://h:1/api/v3", "b": {"c": "wss://h:1/ws"}})
