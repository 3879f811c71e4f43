from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from simkit import Sim

from fillpath.cex.factory import connector_from_config, dialect_for, dialects
from fillpath.config import ExchangeConfig
from fillpath.lab.exchange.binance import SIM_BINANCE_OPTIONS
from fillpath.lab.exchange.okx.client import SIM_OKX_OPTIONS
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


class TestOkx:
    @pytest.fixture
    def dialect(self) -> str:
        return "okx"

    async def test_the_passphrase_comes_from_its_environment_variable(self, sim: Sim) -> None:
        cfg = ExchangeConfig(ccxt_id="okx", api_key_env="K", secret_env="S", passphrase_env="P",
                             urls={"api": sim.url}, options=SIM_OKX_OPTIONS)  # fmt: skip
        conn = connector_from_config("okx1", cfg, env={"K": sim.api_key, "S": sim.secret, "P": sim.passphrase})
        try:
            assert conn.exchange.password == sim.passphrase and conn.dialect.name == "okx"
            await conn.load_markets()
            assert any(r.asset.symbol == "USDT" for r in await conn.balances())
        finally:
            await conn.close()

    async def test_the_passphrase_comes_from_the_credentials_file(self, sim: Sim, tmp_path: Path) -> None:
        creds = tmp_path / "okx.json"
        fd = os.open(creds, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"api_key": sim.api_key, "secret": sim.secret, "passphrase": sim.passphrase}, fh)
        cfg = ExchangeConfig(ccxt_id="okx", credentials_file=creds, urls={"api": sim.url}, options=SIM_OKX_OPTIONS)
        conn = connector_from_config("okx1", cfg, env={})
        try:
            await conn.load_markets()
            assert conn.taker_fee == Decimal("0.001")  # from account/trade-fee (a private read: the passphrase worked)
            assert len(await conn.balances()) == 4
        finally:
            await conn.close()


def test_missing_secret_and_unknown_venue_are_named() -> None:
    with pytest.raises(InvalidInput, match="K is not set"):
        connector_from_config("binance", ExchangeConfig(ccxt_id="binance", api_key_env="K"), env={})
    with pytest.raises(InvalidInput, match="P is not set"):
        connector_from_config("o", ExchangeConfig(ccxt_id="okx", api_key_env="K", passphrase_env="P"), env={"K": "k"})
    with pytest.raises(InvalidInput, match="no dialect"):
        connector_from_config("kraken", ExchangeConfig(ccxt_id="kraken"), env={})
    with pytest.raises(InvalidInput, match="no dialect"):
        dialect_for("connector")  # a module of cex/, not a dialect package


def test_every_dialect_package_is_found_by_its_ccxt_id() -> None:
    assert dialects() == ("binance", "okx")
    for ccxt_id in dialects():
        dialect, point_at = dialect_for(ccxt_id)
        assert dialect.name == ccxt_id and callable(point_at)


def test_a_passphrase_and_a_credentials_file_are_one_source_or_the_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        ExchangeConfig(ccxt_id="okx", credentials_file=tmp_path / "c.json", passphrase_env="P")
