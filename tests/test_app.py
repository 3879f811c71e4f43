"""The composition root's edge conversions: a human amount becomes base units once, from the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from fillpath.app import sell_decimals
from fillpath.config import Config, EvmLocationConfig, ExchangeConfig, TokenConfig
from fillpath.model.errors import InvalidInput, LabError

CFG = Config(
    locations={"eth": EvmLocationConfig(chain_id=1, rpc=("http://127.0.0.1:9",))},
    exchanges={"bin": ExchangeConfig(ccxt_id="binance")},
    tokens=(
        TokenConfig(location="eth", symbol="USDC", address="0x" + "11" * 20, decimals=6),
        TokenConfig(location="eth", symbol="WBTC", address="0x" + "22" * 20, decimals=8),
    ),
)


@pytest.mark.parametrize(
    ("names", "decimals"),
    [
        ("USDC@eth", 6),
        ("ETH@eth", 18),  # the chain's native coin
        ("USDC@bin", 6),  # an exchange asset takes its symbol's decimals on the chains
        ("BTC@bin", 18),  # ... else 18, as the snapshot collector reads it
        ("USDC", 6),
        ("ETH@eth,ETH@bin", 18),
    ],
)
def test_units_come_from_the_configuration(names: str, decimals: int) -> None:
    assert sell_decimals(CFG, names) == decimals


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("DAI@eth", "DAI@eth is not a configured token"),
        ("USDC@arbitrum", "'arbitrum' is not a configured location"),
        ("USDC@eth,WBTC@eth", "different decimals"),
    ],
)
def test_unknown_or_mixed_assets_are_named(names: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        sell_decimals(CFG, names)
    assert info.value.field == "SELL"


def test_the_lab_default_says_to_start_the_lab() -> None:
    with pytest.raises(LabError, match="fillpath lab up"):
        sell_decimals(Config(lab=True), "WETH")


def test_a_journal_may_exist_only_where_the_data_directory_recorded_one(tmp_path: Path) -> None:
    """A dry run reads the journal only if one may exist, so as never to create one. The data directory records each
    journal it has seen: another journal's record (a lab directory shared by scripts with journals of their own) is
    no reason to open, and so create, this one; a recorded journal that is gone is (opening it says how to restore)."""
    from fillpath.app import journal_exists, open_store

    data = tmp_path / "data"
    first = Config(data_dir=data)
    open_store(first).close()  # the data directory now records its default journal
    other = Config(data_dir=data, database_url=f"sqlite:///{tmp_path / 'other.db'}")
    assert journal_exists(first) and not journal_exists(other)
    assert not (tmp_path / "other.db").exists()
    (data / "fillpath.db").unlink()
    assert journal_exists(first)  # recorded, now missing: opening it refuses, naming the way back
