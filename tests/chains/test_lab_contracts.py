"""The lab is real: the periphery contracts trade against pools deployed from the npm artifacts.

Every test here takes ``chain`` and so runs on a real anvil node and on eth-tester/py-evm.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak, to_checksum_address

from fillpath.lab.chains.artifacts import V2_PAIR_INIT_CODE_HASH, V3_POOL_INIT_CODE_HASH, load
from fillpath.lab.chains.spec import TOKENS, WETH
from tests.conftest import Chain


def _create2(factory: str, salt: bytes, init_code_hash: str) -> str:
    raw = keccak(b"\xff" + bytes.fromhex(factory[2:]) + salt + bytes.fromhex(init_code_hash))
    return to_checksum_address(raw[12:])


def test_artifact_init_code_hashes_match_the_periphery() -> None:
    assert load("UniswapV2Pair").init_code_hash == V2_PAIR_INIT_CODE_HASH
    assert load("UniswapV3Pool").init_code_hash == V3_POOL_INIT_CODE_HASH
    assert V2_PAIR_INIT_CODE_HASH in load("UniswapV2Router02").bytecode
    assert V3_POOL_INIT_CODE_HASH in load("SwapRouter").bytecode


def test_pools_sit_where_the_routers_compute_them(chain: Chain) -> None:
    d = chain.deployment
    for p in (*d.pools, *d.aggregator_pools):
        if p.kind == "stableswap":  # not a CREATE2 pool: deployed as is (tests/contracts/test_stableswap_parity.py)
            continue
        a0, a1 = d.token(p.token0).address, d.token(p.token1).address
        assert int(a0, 16) < int(a1, 16)
        if p.kind == "uniswap_v2":
            salt = keccak(bytes.fromhex(a0[2:]) + bytes.fromhex(a1[2:]))
            factory = "LabSwapFactory" if p in d.aggregator_pools else "UniswapV2Factory"
            assert _create2(d.address(factory), salt, V2_PAIR_INIT_CODE_HASH) == p.address
        else:
            salt = keccak(
                bytes(12) + bytes.fromhex(a0[2:]) + bytes(12) + bytes.fromhex(a1[2:]) + p.fee_ppm.to_bytes(32, "big")
            )
            assert _create2(d.address("UniswapV3Factory"), salt, V3_POOL_INIT_CODE_HASH) == p.address


def test_dev_account_holds_every_token(chain: Chain) -> None:
    for t in (*TOKENS, WETH):
        token = chain.contract(t.symbol)
        assert token.functions.decimals().call() == t.decimals
        assert token.functions.symbol().call() == t.symbol
        assert token.functions.balanceOf(chain.dev).call() >= 1_000 * 10**t.decimals, t.symbol
    assert chain.w3.eth.get_balance(chain.dev) >= 1_000 * 10**18


def test_the_pools_hold_the_seeded_depth(chain: Chain) -> None:
    weth_usdc = chain.deployment.pool("uniswap_v2", "WETH", "USDC")
    usdc = chain.contract("USDC").functions.balanceOf(weth_usdc.address).call()
    assert 9_900_000 * 10**6 <= usdc <= 10_100_000 * 10**6  # ~$20M pair: half in USDC
    v3 = chain.deployment.pool("uniswap_v3", "WETH", "USDC", 500)
    usdc_v3 = chain.contract("USDC").functions.balanceOf(v3.address).call()
    weth_v3 = chain.contract("WETH").functions.balanceOf(v3.address).call()
    value = usdc_v3 // 10**6 + weth_v3 * 3000 // 10**18
    assert 55_000_000 <= value <= 61_000_000  # ~$60M concentrated around the price


@pytest.mark.parametrize(
    ("path", "human_in"),
    [
        (("WETH", "USDC"), 1),
        (("WETH", "USDC"), 1500),  # large: ~20% of the pair's depth
        (("USDC", "WETH"), 2_500_000),
        (("DAI", "USDC", "WETH"), 100_000),  # reachable only through two hops
        (("WBTC", "WETH"), 3),
    ],
)
def test_router02_swap_equals_getAmountsOut(chain: Chain, path: tuple[str, ...], human_in: int) -> None:
    router = chain.contract("UniswapV2Router02")
    tokens = [chain.contract(s) for s in path]
    amount_in = human_in * 10 ** tokens[0].functions.decimals().call()
    addrs = [t.address for t in tokens]
    quoted = router.functions.getAmountsOut(amount_in, addrs).call()[-1]
    assert quoted > 0
    out_token = tokens[-1]
    before = out_token.functions.balanceOf(chain.dev).call()
    tokens[0].functions.approve(router.address, amount_in).transact({"from": chain.dev})
    tx = router.functions.swapExactTokensForTokens(amount_in, quoted, addrs, chain.dev, chain.deadline())
    receipt = chain.w3.eth.wait_for_transaction_receipt(tx.transact({"from": chain.dev}))
    assert receipt["status"] == 1
    assert out_token.functions.balanceOf(chain.dev).call() - before == quoted
    assert tokens[0].functions.allowance(chain.dev, router.address).call() == 0  # the exact approval was used


@pytest.mark.parametrize(
    ("a", "b", "fee", "human_in", "min_ticks"),
    [
        ("WETH", "USDC", 500, 1, 0),
        ("WETH", "USDC", 500, 6000, 3),  # a large sale walks down through many initialized ticks
        ("USDC", "WETH", 500, 15_000_000, 4),
        ("WETH", "USDC", 3000, 700, 1),
        ("USDC", "USDT", 100, 3_000_000, 1),
        ("WBTC", "WETH", 3000, 20, 0),
    ],
)
def test_swaprouter_equals_quoterv2(chain: Chain, a: str, b: str, fee: int, human_in: int, min_ticks: int) -> None:
    quoter, router = chain.contract("QuoterV2"), chain.contract("SwapRouter")
    tin, tout = chain.contract(a), chain.contract(b)
    amount_in = human_in * 10 ** tin.functions.decimals().call()
    out, _sqrt_after, ticks_crossed, _gas = quoter.functions.quoteExactInputSingle(
        (tin.address, tout.address, amount_in, fee, 0)
    ).call()
    assert out > 0
    assert ticks_crossed >= min_ticks
    before = tout.functions.balanceOf(chain.dev).call()
    tin.functions.approve(router.address, amount_in).transact({"from": chain.dev})
    params = (tin.address, tout.address, fee, chain.dev, chain.deadline(), amount_in, out, 0)
    receipt = chain.w3.eth.wait_for_transaction_receipt(
        router.functions.exactInputSingle(params).transact({"from": chain.dev})
    )
    assert receipt["status"] == 1
    assert tout.functions.balanceOf(chain.dev).call() - before == out


def test_swaprouter_refuses_less_than_min_out(chain: Chain) -> None:
    quoter, router = chain.contract("QuoterV2"), chain.contract("SwapRouter")
    weth, usdc = chain.contract("WETH"), chain.contract("USDC")
    amount_in = 10**18
    out = quoter.functions.quoteExactInputSingle((weth.address, usdc.address, amount_in, 500, 0)).call()[0]
    weth.functions.approve(router.address, amount_in).transact({"from": chain.dev})
    params = (weth.address, usdc.address, 500, chain.dev, chain.deadline(), amount_in, out + 1, 0)
    with pytest.raises(Exception, match="Too little received"):
        router.functions.exactInputSingle(params).call({"from": chain.dev})


def test_multicall3_batches_reads_at_one_block(chain: Chain) -> None:
    mc = chain.contract("Multicall3")
    usdc = chain.contract("USDC")
    weth = chain.contract("WETH").address  # holds the wrapped ETH; not the caller, whom eth_call may charge gas
    calls = [
        (usdc.address, False, usdc.encode_abi("balanceOf", [chain.dev])),
        (mc.address, False, mc.encode_abi("getBlockNumber", [])),
        (mc.address, False, mc.encode_abi("getEthBalance", [weth])),
        (usdc.address, True, b"\xde\xad\xbe\xef"),  # an unknown selector: allowed to fail
    ]
    results = mc.functions.aggregate3(calls).call()
    assert [ok for ok, _ in results] == [True, True, True, False]
    assert int.from_bytes(results[0][1], "big") == usdc.functions.balanceOf(chain.dev).call()
    assert int.from_bytes(results[1][1], "big") == chain.w3.eth.block_number
    assert int.from_bytes(results[2][1], "big") == chain.w3.eth.get_balance(weth) > 0
