from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fillpath.config import Config, load_config, redact_url
from fillpath.model.errors import InvalidInput

SENTINEL_KEY = "0x" + "5e" * 32
SENTINEL_SECRET = "SENTINELsecretDoNotPrint1234567890"
SENTINEL_PASS = "sentinel-passphrase-zzz"
SENTINEL_URL_KEY = "abcdefSENTINELURLKEY0123456789"


def test_no_file_means_the_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config()
    assert cfg.lab is True
    assert cfg.source == "built-in lab default"
    assert cfg.resolved_database_url.startswith("sqlite:///")


def test_a_full_config_validates_into_frozen_objects(tmp_path: Path) -> None:
    path = tmp_path / "fillpath.toml"
    path.write_text(
        """
        database_url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        [locations.ethereum]
        chain_id = 1
        rpc = ["https://a.example/v3/KEY", "https://b.example"]
        confirmations = 3
        [accounts.trader]
        keystore = "/keys/trader.json"
        passphrase_env = "TRADER_PASS"
        [exchanges.binance]
        ccxt_id = "binance"
        api_key_env = "BINANCE_KEY"
        secret_env = "BINANCE_SECRET"
        [[tokens]]
        location = "ethereum"
        symbol = "USDC"
        address = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
        decimals = 6
        [risk]
        max_order_notional = "250000.50"
        """
    )
    cfg = load_config(path)
    assert cfg.locations["ethereum"].rpc == ("https://a.example/v3/KEY", "https://b.example")
    assert cfg.accounts["trader"].passphrase_env == "TRADER_PASS"
    assert str(cfg.risk.max_order_notional) == "250000.50"
    with pytest.raises(Exception, match="frozen"):
        cfg.numeraire = "EUR"  # type: ignore[misc]
    assert isinstance(cfg, Config)


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[locations.x]\nchain_id = "one"\nrpc = "http://h"', "locations.x.chain_id"),
        ("[locations.x]\nchain_id = 1", "locations.x.rpc"),
        ('[accounts.a]\nprivate_key = "0xabc"', "never go in the config file"),
        ('[exchanges.b]\nccxt_id = "binance"\nsecret = "s"', "never go in the config file"),
        ('[accounts.a]\nkeystore = "/k"\nprivate_key_env = "K"', "exactly one of"),
        ('[accounts.a]\nprivate_key_env = "not a name"', "not an environment variable name"),
        ("unknown_field = 1", "unknown_field"),
        ("[[[", "not valid TOML"),
    ],
)
def test_bad_config_names_the_field(tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "fillpath.toml"
    path.write_text(toml)
    with pytest.raises(InvalidInput, match=needle.replace(".", r"\.")):
        load_config(path)


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        (f"https://mainnet.infura.io/v3/{SENTINEL_URL_KEY}", SENTINEL_URL_KEY),
        ("https://user:hunter2pass@node.example:8545", "hunter2pass"),
        ("wss://node.example/ws?apikey=topsecretvalue", "topsecretvalue"),
    ],
)
def test_urls_are_redacted(url: str, hidden: str) -> None:
    shown = redact_url(url)
    assert hidden not in shown
    assert "example" in shown or "infura" in shown


def test_config_show_never_prints_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "fillpath.toml"
    path.write_text(
        f"""
        [locations.mainnet]
        chain_id = 1
        rpc = ["https://mainnet.infura.io/v3/{SENTINEL_URL_KEY}"]
        ws = "wss://user:{SENTINEL_PASS}@ws.example/x"
        [accounts.hot]
        private_key_env = "FP_TEST_KEY"
        [accounts.cold]
        keystore = "{tmp_path}/cold.json"
        passphrase_env = "FP_TEST_PASS"
        [exchanges.binance]
        ccxt_id = "binance"
        api_key_env = "FP_TEST_API_KEY"
        secret_env = "FP_TEST_SECRET"
        """
    )
    env = {
        **os.environ,
        "FP_TEST_KEY": SENTINEL_KEY,
        "FP_TEST_PASS": SENTINEL_PASS,
        "FP_TEST_API_KEY": SENTINEL_SECRET + "api",
        "FP_TEST_SECRET": SENTINEL_SECRET,
    }
    outputs = []
    for args in (["config", "show"], ["config", "show", "--json"], ["--debug", "config", "show"]):
        res = subprocess.run(
            [sys.executable, "-m", "fillpath", "--config", str(path), *args],
            capture_output=True, text=True, env=env, timeout=60, check=True,
        )  # fmt: skip
        outputs.append(res.stdout + res.stderr)
    view = json.loads(outputs[1].split("\n", 0)[0])
    assert view["accounts"]["hot"]["private_key"] == "$FP_TEST_KEY (set)"
    assert view["exchanges"]["binance"]["secret"] == "$FP_TEST_SECRET (set)"
    for out in outputs:
        for secret in (SENTINEL_KEY, SENTINEL_KEY[2:], SENTINEL_SECRET, SENTINEL_PASS, SENTINEL_URL_KEY):
            assert secret not in out


AGGREGATOR_BASE = """
[locations.l1]
chain_id = 1
rpc = "http://h"
[[tokens]]
location = "l1"
symbol = "WETH"
address = "0x0000000000000000000000000000000000000001"
decimals = 18
[[tokens]]
location = "l1"
symbol = "USDC"
address = "0x0000000000000000000000000000000000000002"
decimals = 6
"""
HOLDER = "0x0000000000001fF3684f28c67538d4D072C22734"


def _aggregator(tmp_path: Path, **fields: str) -> Path:
    table = {"location": '"l1"', "url": '"https://api.0x.org"', "allowed_targets": f'["{HOLDER}"]',
             "allowed_spenders": f'["{HOLDER}"]', "api_key_env": '"ZEROEX_KEY"',
             "pairs": '[{sell = "WETH", buy = "USDC", sizes = ["1", "10"]}]'} | fields  # fmt: skip
    path = tmp_path / "fillpath.toml"
    path.write_text(AGGREGATOR_BASE + "[aggregators.zeroex]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))
    return path


def test_an_aggregator_names_its_api_allow_lists_and_what_to_sample(tmp_path: Path) -> None:
    cfg = load_config(_aggregator(tmp_path, excluded_sources='["Uniswap_V3"]'))
    agg = cfg.aggregators["zeroex"]
    assert agg.allowed_targets == (HOLDER,) and agg.excluded_sources == ("Uniswap_V3",)
    assert [str(x) for x in agg.pairs[0].sizes] == ["1", "10"] and agg.max_shortfall_bps == 0
    from fillpath.config import redacted_view

    view = redacted_view(cfg)["aggregators"]["zeroex"]
    assert view["api_key"] == "$ZEROEX_KEY (not set)" and "api_key_env" not in view
    bad = {
        "location": ('"elsewhere"', "not a configured EVM location"),
        "allowed_targets": ('["0x12"]', "not a 0x-prefixed 20-byte address"),
        "allowed_spenders": ("[]", "allowed_spenders"),
        "pairs": ('[{sell = "WETH", buy = "DAI", sizes = ["1"]}]', "DAI is not a token of l1"),
        "api_key_env": ('"not a name"', "not an environment variable name"),
    }
    for key, (value, needle) in bad.items():
        with pytest.raises(InvalidInput, match=needle):
            load_config(_aggregator(tmp_path, **{key: value}))
    with pytest.raises(InvalidInput, match="strictly ascending"):
        load_config(_aggregator(tmp_path, pairs='[{sell = "WETH", buy = "USDC", sizes = ["10", "1"]}]'))
    path = _aggregator(tmp_path)
    path.write_text(path.read_text().replace("[aggregators.zeroex]", '[aggregators."0x:v2"]'))
    with pytest.raises(InvalidInput, match="it is part of venue ids"):
        load_config(path)


def test_fee_bump_settings_per_chain_and_their_defaults(tmp_path: Path) -> None:
    from fillpath.app import replace_policy

    path = tmp_path / "fillpath.toml"
    path.write_text(
        '[locations.a]\nchain_id = 1\nrpc = "http://h"\n[locations.b]\nchain_id = 2\nrpc = "http://h"\n'
        "replace_after_s = 30\nmax_replacements = 1\nmax_fee_multiple = 5\n"
    )
    cfg = load_config(path)
    a, b = replace_policy(cfg.locations["a"]), replace_policy(cfg.locations["b"])  # type: ignore[arg-type]
    assert (a.after_s, a.max_replacements, a.max_fee_multiple) == (60.0, 3, 3)
    assert (b.after_s, b.max_replacements, b.max_fee_multiple) == (30.0, 1, 5)
    tracker = b.tracker_policy(2)
    assert (tracker.replace_after_s, tracker.max_replacements, tracker.confirmations) == (30.0, 1, 2)
    for bad, field in (("replace_after_s = 0", "replace_after_s"), ("max_fee_multiple = 0", "max_fee_multiple")):
        path.write_text(f'[locations.a]\nchain_id = 1\nrpc = "http://h"\n{bad}\n')
        with pytest.raises(InvalidInput, match=f"locations\\.a\\.{field}"):
            load_config(path)
