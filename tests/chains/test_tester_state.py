"""The eth-tester lab's deployed state, stored and loaded: the loaded chain is the deployed one, block for block."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3

from fillpath.lab.chains import artifacts, tester_state
from fillpath.lab.chains.spec import lab_specs
from tests.conftest import Chain


def _state(w3: Web3, chain: Chain, block: int) -> tuple[object, ...]:
    usdc = w3.eth.contract(address=chain.contract("USDC").address, abi=artifacts.abi("LabToken"))
    pool = chain.deployment.pool("uniswap_v2", "WETH", "USDC")
    pair = w3.eth.contract(address=Web3.to_checksum_address(pool.address), abi=artifacts.abi("UniswapV2Pair"))
    header = w3.eth.get_block(block)
    return (
        header["hash"],
        header["stateRoot"],
        usdc.functions.balanceOf(chain.dev).call(block_identifier=block),
        tuple(pair.functions.getReserves().call(block_identifier=block)),
    )


def test_a_stored_state_loads_as_the_same_chain_and_takes_transactions(tester: Chain, tmp_path: Path) -> None:
    spec = lab_specs("lite")[0]
    here = tester_state.TesterLab(tester.w3, _backend(tester), tester.deployment, loaded=False)
    path = tmp_path / f"tester-{spec.location}-{tester_state.cache_key(spec)}.json"
    tester_state._write(path, here)
    head = int(tester.w3.eth.block_number)

    loaded = tester_state.start(spec, tmp_path)

    assert loaded.loaded, "the stored state was not used: the deploy ran again"
    assert loaded.deployment == tester.deployment
    assert _state(loaded.w3, tester, head) == _state(tester.w3, tester, head)
    # one block mined on load, stamped now (deadlines are read from the latest block)
    assert loaded.w3.eth.block_number == head + 1
    assert loaded.w3.eth.get_block("latest")["timestamp"] >= tester.w3.eth.get_block(head)["timestamp"]
    usdc = loaded.w3.eth.contract(address=tester.contract("USDC").address, abi=artifacts.abi("LabToken"))
    to = loaded.w3.eth.accounts[3]
    before = usdc.functions.balanceOf(to).call()
    sent = usdc.functions.transfer(to, 12_345).transact({"from": tester.dev})
    assert loaded.w3.eth.wait_for_transaction_receipt(sent)["status"] == 1
    assert usdc.functions.balanceOf(to).call() == before + 12_345
    # the session chain did not move: two independent chains
    assert int(tester.w3.eth.block_number) == head


def test_an_unreadable_or_foreign_state_is_not_loaded(tmp_path: Path) -> None:
    bad = tmp_path / "tester-lab1-x.json"
    bad.write_text("{not json")
    assert tester_state._read(bad) is None
    bad.write_text('{"format": 999, "store": {}}')
    assert tester_state._read(bad) is None
    assert tester_state._read(tmp_path / "absent.json") is None


def test_the_key_moves_with_the_deploy_code_and_the_spec() -> None:
    lite, full = lab_specs("lite")[0], lab_specs("full")[0]
    assert tester_state.cache_key(lite) == tester_state.cache_key(lite)
    assert tester_state.cache_key(lite) != tester_state.cache_key(full)


def _backend(chain: Chain) -> object:
    provider = chain.w3.provider
    return provider.ethereum_tester  # type: ignore[attr-defined]
