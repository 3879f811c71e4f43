"""The ABIs production ships equal the builds they come from (the lab's artifacts)."""

from __future__ import annotations

import json

import pytest

from fillpath.chains.abi import ABI_DIR, SHIPPED, abi, fn
from fillpath.lab.chains.artifacts import production_abi


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_abi_matches_its_build(name: str) -> None:
    shipped = json.loads((ABI_DIR / f"{name}.json").read_text())
    assert shipped == production_abi(name), f"{name}.json is stale: run `.venv/bin/python scripts/ship_abis.py`"


def test_the_generic_token_interface_has_no_minting() -> None:
    names = {e.get("name") for e in abi("ERC20")}
    assert {"balanceOf", "transfer", "approve", "allowance", "decimals", "symbol"} <= names
    assert "mint" not in names


def test_an_unknown_contract_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="LabToken"):
        fn("LabToken", "mint")
