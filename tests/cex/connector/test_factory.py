from __future__ import annotations

import pytest
from simkit import Sim

from fillpath.cex.factory import connector_from_config
from fillpath.config import ExchangeConfig
from fillpath.lab.exchange.binance import SIM_BINANCE_OPTIONS
from fillpath.model.errors import InvalidInput


async def test_a_configured_connector_reaches_the_venue(sim: Sim) -> None:
    cfg = ExchangeConfig(
        ccxt_id="binance", api_key_env="K", secret_env="S", urls={"api": sim.url}, options=SIM_BINANCE_OPTIONS
    )
    conn = connector_from_config("binance", cfg, env={"K": sim.api_key, "S": sim.secret})
    try:
        await conn.load_markets()
        assert conn.exchange.enableRateLimit is False
        assert any(r.asset.symbol == "USDT" for r in await conn.balances())
    finally:
        await conn.close()


def test_missing_secret_and_unknown_venue_are_named() -> None:
    with pytest.raises(InvalidInput, match="K is not set"):
        connector_from_config("binance", ExchangeConfig(ccxt_id="binance", api_key_env="K"), env={})
    with pytest.raises(InvalidInput, match="no dialect"):
        connector_from_config("kraken", ExchangeConfig(ccxt_id="kraken"), env={})
