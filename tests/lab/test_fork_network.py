"""A fork of a real network, offline: the upstream is an anvil chain that is Ethereum where fillpath looks
(``lab/chains/mainnet_like.py``: chain id 1, the real factories at their real addresses). ``lab up --fork-url``
knows it by its chain id, finds its pools at the fork block, deploys the executor on the fork and writes the
configuration every command reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fillpath.chains.networks import ETHEREUM
from fillpath.config import lab_config_path, load_config_file
from fillpath.lab.chains import mainnet_like, process, rpc
from fillpath.lab.chains.fork import ForkSettings
from fillpath.lab.manager import Lab
from fillpath.model.errors import LabError
from tests.chains.test_discovery_ethereum import MAINNET_POOLS

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def ethereum_fork(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    tmp = tmp_path_factory.mktemp("ethereum")
    ref, url = mainnet_like.start(tmp / "upstream.log")
    try:
        block = int(rpc.call(url, "eth_blockNumber"), 16)
        lab = Lab(tmp / "data", fork=ForkSettings((url,), block))
        try:
            lab.up()
            yield lab, tmp / "data"
        finally:
            lab.down()
    finally:
        process.stop(ref)


def test_a_fork_of_ethereum_knows_its_pools_and_has_the_executor(ethereum_fork: tuple[Lab, Path]) -> None:
    lab, data_dir = ethereum_fork
    (node,) = lab.status()
    assert (node.location, node.chain_id, node.responding) == ("ethereum", 1, True)
    dep = node.deployment
    assert dep is not None
    assert {(p.kind, p.address.lower()) for p in dep.pools} == MAINNET_POOLS
    assert dep.address("UniswapV3Factory") == ETHEREUM.uniswap_v3.factory
    assert node.rpc_url
    assert rpc.call(node.rpc_url, "eth_getCode", [dep.address("FillpathExecutor"), "latest"]) not in (None, "0x")
    cfg = load_config_file(lab_config_path(data_dir), lab=True)
    loc = cfg.locations["ethereum"]
    assert (loc.chain_id, loc.executor) == (1, dep.address("FillpathExecutor"))
    assert {p.address.lower() for p in cfg.pools} == {a for _, a in MAINNET_POOLS}
    assert {t.symbol for t in cfg.tokens} == {t.symbol for t in ETHEREUM.tokens}


def test_funding_a_token_that_is_not_there_fails_loudly(ethereum_fork: tuple[Lab, Path]) -> None:
    lab, _ = ethereum_fork
    # the tokens of this stand-in have no code (a real fork's do): funding says so instead of doing nothing
    with pytest.raises(LabError, match="balanceOf"):
        lab.fund({"USDC@ethereum": "100"})
