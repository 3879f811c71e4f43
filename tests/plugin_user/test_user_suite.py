"""A user's own test file, written as a user of fillpath writes one: nothing but the plugin's fixtures
(``pip install 'fillpath[lab]'`` brings them; no conftest needed).

Every test changes the chain it gets and first checks that it starts clean, so a test that saw another's change
fails, in any order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

MARK = "0x000000000000000000000000000000000000bEEF"


def _balance_of(w3: Any, token: str, holder: str) -> int:
    data = "0x70a08231" + holder[2:].lower().rjust(64, "0")
    return int.from_bytes(w3.eth.call({"to": token, "data": data}), "big")


@pytest.mark.parametrize("turn", range(3))
def test_the_lab_starts_clean_for_every_test(fillpath_lab: Any, turn: int) -> None:
    lab1 = fillpath_lab["lab1"]
    usdc = lab1.address("USDC")
    assert lab1.w3.eth.get_balance(MARK) == 0
    assert _balance_of(lab1.w3, usdc, fillpath_lab.trader) == 0
    # change both: a balance by a transaction, the trader's tokens through the lab
    lab1.w3.eth.send_transaction({"from": lab1.deployment.dev, "to": MARK, "value": 10**18 + turn})
    (funded,) = fillpath_lab.fund({"USDC@lab1": "2500"})
    assert funded.after == Decimal(2500)
    assert _balance_of(lab1.w3, usdc, fillpath_lab.trader) == 2_500 * 10**6


def test_the_lab_has_the_real_uniswap_contracts(fillpath_lab: Any) -> None:
    for location in ("lab1", "lab2"):
        chain = fillpath_lab[location]
        assert chain.w3.eth.get_code(chain.address("UniswapV3Factory"))
        assert chain.w3.eth.get_code(chain.address("FillpathExecutor"))
    cfg = fillpath_lab.config()
    assert set(cfg.locations) == {"lab1", "lab2"}


@pytest.mark.parametrize("turn", range(3))
def test_the_in_process_chain_starts_clean_for_every_test(eth_tester_chain: Any, turn: int) -> None:
    w3 = eth_tester_chain.w3
    assert w3.eth.get_balance(MARK) == 0
    w3.eth.send_transaction({"from": eth_tester_chain.deployment.dev, "to": MARK, "value": 1 + turn})
    assert w3.eth.get_balance(MARK) == 1 + turn


@pytest.mark.parametrize("turn", range(3))
def test_the_fork_starts_clean_for_every_test(fillpath_fork: Any, turn: int) -> None:
    (location,) = fillpath_fork.chains
    chain = fillpath_fork[location]
    usdc = chain.address("USDC")
    assert chain.w3.eth.get_balance(MARK) == 0
    assert _balance_of(chain.w3, usdc, fillpath_fork.trader) == 0
    chain.rpc("anvil_setBalance", MARK, hex(5 + turn))
    fillpath_fork.fund({f"USDC@{location}": "1000"})  # by a storage write, read back
    assert _balance_of(chain.w3, usdc, fillpath_fork.trader) == 1_000 * 10**6
