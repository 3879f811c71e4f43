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


def test_serve_okx_with_the_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--dialect okx``; the secret and passphrase from environment variables it names (never the command line)."""
    from fillpath.lab.exchange.okx.client import sim_okx

    monkeypatch.setenv("SIM_SECRET", "env-secret")
    monkeypatch.setenv("SIM_PASS", "env-pass")
    argv = ["--dialect", "okx", "--walk-interval", "0", "--api-key", "env-key", "--api-secret-env", "SIM_SECRET",
            "--passphrase-env", "SIM_PASS"]  # fmt: skip
    with spawn_sim(argv) as proc:
        assert "env-secret" not in " ".join(proc.process.args)  # type: ignore[arg-type]
        assert "env-pass" not in " ".join(proc.process.args)  # type: ignore[arg-type]

        async def query() -> tuple[float, str]:
            exchange = sim_okx(proc.url, "env-key", "env-secret", "env-pass")
            try:
                await exchange.load_markets()
                return (await exchange.fetch_balance())["USDT"]["free"], exchange.markets["ETH/USDT"]["id"]
            finally:
                await exchange.close()

        assert asyncio.run(query()) == (1_000_000, "ETH-USDT")


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        spawn_sim(["--dialect", "kraken"])
