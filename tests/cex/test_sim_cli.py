"""``fillpath sim serve`` as a child process: prints its URL, serves ccxt, takes profiles and a config."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fillpath.lab.exchange import spawn_sim
from fillpath.lab.exchange.binance import sim_binance
from fillpath.lab.exchange.config import load_sim_config
from fillpath.lab.exchange.faults import parse_profile
from fillpath.model.errors import InvalidInput


def _serve_and_query(args: list[str]) -> tuple[float, float]:
    with spawn_sim(args) as proc:
        assert proc.url.startswith("http://127.0.0.1:")

        async def query() -> tuple[float, float]:
            exchange = sim_binance(proc.url, "cli-key", "cli-secret")
            try:
                await exchange.load_markets()
                usdt = (await exchange.fetch_balance())["USDT"]["free"]
                book = await exchange.fetch_order_book("ETH/USDT", 5)
                return usdt, book["bids"][0][0]
            finally:
                await exchange.close()

        return asyncio.run(query())


def test_serve_subprocess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_TEST_SECRET", "cli-secret")  # a secret never goes on the command line
    config = tmp_path / "sim.toml"
    config.write_text(
        '[[markets]]\nbase = "ETH"\nquote = "USDT"\nmid = "2500"\n\n'
        '[[accounts]]\napi_key = "x"\nsecret = "y"\nbalances = { USDT = "777" }\n'
    )
    args = ["--config", str(config), "--api-key", "cli-key", "--api-secret-env", "SIM_TEST_SECRET", "--seed", "4"]
    usdt, best_bid = _serve_and_query([*args, "--profile", "delayed_fills:delay=2", "--walk-interval", "0"])
    assert usdt == 777
    assert 2490 < best_bid < 2510


def test_config_file_refuses_floats(tmp_path: Path) -> None:
    config = tmp_path / "sim.toml"
    config.write_text('[[markets]]\nbase = "ETH"\nquote = "USDT"\nmid = 2500.5\n')
    with pytest.raises(InvalidInput, match="float"):
        load_sim_config(config)


def test_profile_syntax() -> None:
    setting = parse_profile("rate_limit:limit=5,ban=3")
    assert setting.params["limit"] == "5"
    assert setting.params["burst"] == "5"
    with pytest.raises(InvalidInput, match="unknown fault profile"):
        parse_profile("gremlins")
    with pytest.raises(InvalidInput, match="unknown parameters"):
        parse_profile("delayed_fills:speed=1")
