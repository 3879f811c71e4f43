"""``app.trading_signers`` on a configuration: which key signs on which location, and clear errors otherwise.
(The lab's case is in tests/chains/test_lab_trader.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from pydantic import ValidationError

from fillpath.app import chain_sources, trading_signers
from fillpath.chains.accounts import Keystore
from fillpath.config import Config
from fillpath.model.errors import InvalidInput

KEY_A = "0x" + "11" * 32
KEY_B = "0x" + "22" * 32
ADDR_A = Account.from_key(KEY_A).address
ADDR_B = Account.from_key(KEY_B).address
LOCATIONS = {
    "ethereum": {"chain_id": 1, "rpc": "http://127.0.0.1:1"},
    "arbitrum": {"chain_id": 42161, "rpc": "http://127.0.0.1:2"},
}


def _cfg(accounts: dict[str, Any]) -> Config:
    return Config.model_validate({"source": "fp.toml", "locations": LOCATIONS, "accounts": accounts})


@pytest.fixture
def keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FP_TEST_PASS", "correct horse battery")
    entry = Keystore(tmp_path / "keys", kdf_iterations=2**10).import_key("cold", KEY_B, "correct horse battery")
    return entry.path


def test_an_account_signs_on_every_location_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_TEST_KEY", KEY_A)
    signers = trading_signers(_cfg({"hot": {"private_key_env": "FP_TEST_KEY"}}))
    assert {loc: s.address for loc, s in signers.items()} == {"ethereum": ADDR_A, "arbitrum": ADDR_A}


def test_accounts_split_the_locations(monkeypatch: pytest.MonkeyPatch, keystore: Path) -> None:
    monkeypatch.setenv("FP_TEST_KEY", KEY_A)
    cfg = _cfg({
        "hot": {"private_key_env": "FP_TEST_KEY", "locations": ["arbitrum"]},
        "cold": {"keystore": str(keystore), "passphrase_env": "FP_TEST_PASS", "locations": ["ethereum"],
                 "address": ADDR_B.lower()},
        "idle": {"private_key_env": "FP_UNSET_KEY", "locations": []},  # signs nowhere: never read
    })  # fmt: skip
    signers = trading_signers(cfg)
    assert {loc: s.address for loc, s in signers.items()} == {"arbitrum": ADDR_A, "ethereum": ADDR_B}


@pytest.mark.parametrize(
    ("accounts", "field", "words"),
    [
        ({"cold": {"keystore": "KS"}}, "fp.toml: accounts.cold.passphrase_env", "required"),
        ({"hot": {"private_key_env": "FP_TEST_KEY"}, "cold": {"keystore": "KS", "passphrase_env": "FP_TEST_PASS",
          "locations": ["arbitrum"]}}, "fp.toml: accounts.cold.locations", "already signed for by account 'hot'"),
        ({"hot": {"private_key_env": "FP_TEST_KEY", "address": ADDR_B}}, "fp.toml: accounts.hot.address",
         f"the key signs for {ADDR_A}"),
        ({"hot": {"private_key_env": "FP_UNSET_KEY"}}, "$FP_UNSET_KEY", "is not set"),
        ({"cold": {"keystore": "KS", "passphrase_env": "FP_UNSET_PASS"}}, "$FP_UNSET_PASS", "is not set"),
    ],
)  # fmt: skip
def test_errors_name_the_field(
    monkeypatch: pytest.MonkeyPatch, keystore: Path, accounts: dict[str, Any], field: str, words: str
) -> None:
    monkeypatch.setenv("FP_TEST_KEY", KEY_A)
    monkeypatch.delenv("FP_UNSET_KEY", raising=False)
    monkeypatch.delenv("FP_UNSET_PASS", raising=False)
    for acc in accounts.values():
        if acc.get("keystore") == "KS":
            acc["keystore"] = str(keystore)
    with pytest.raises(InvalidInput) as err:
        trading_signers(_cfg(accounts))
    assert err.value.field == field
    assert words in str(err.value)
    assert KEY_A[2:] not in str(err.value) and "correct horse" not in str(err.value)


def test_each_location_reads_the_balances_of_the_account_that_trades_there() -> None:
    cfg = _cfg({
        "hot": {"private_key_env": "FP_TEST_KEY", "locations": ["arbitrum"], "address": ADDR_A},
        "cold": {"private_key_env": "FP_OTHER_KEY", "locations": ["ethereum"], "address": ADDR_B},
    })  # fmt: skip
    holders = {src.location: src.holder for _, src in chain_sources(cfg)}
    assert holders == {"ethereum": ADDR_B, "arbitrum": ADDR_A}  # read without unlocking anything


def test_an_account_at_an_unknown_location_is_refused_when_the_config_is_read() -> None:
    """Names resolve when the configuration is read (config.py), before any key is looked at."""
    with pytest.raises(ValidationError, match=r"accounts\.hot\.locations: 'solana' is not a configured EVM location"):
        _cfg({"hot": {"private_key_env": "FP_TEST_KEY", "locations": ["solana"]}})
