import pytest

MARK = "0x000000000000000000000000000000000000bEEF"


@pytest.mark.parametrize("turn", range(20))
def test_every_fixture_clean_every_time(fillpath_lab, fillpath_fork, eth_tester_chain, turn):
    for chains in (fillpath_lab, fillpath_fork):
        for chain in chains.chains.values():
            assert chain.w3.eth.get_balance(MARK) == 0
            chain.rpc("anvil_setBalance", MARK, hex(turn + 1))
    (location,) = fillpath_fork.chains
    fillpath_fork.fund({f"USDC@{location}": str(turn + 1)})
    assert eth_tester_chain.w3.eth.get_balance(MARK) == 0
    eth_tester_chain.w3.eth.send_transaction({"from": eth_tester_chain.deployment.dev, "to": MARK, "value": 1})
