"""Build → simulate → sign → send on the real lab, signed by a fresh key with eth-account (coincurve)."""

from __future__ import annotations

import pytest

from fillpath.chains import transactions as txs
from fillpath.chains.accounts import Signer, signing_backend
from fillpath.chains.fees import suggest_fees
from fillpath.model.errors import InvalidInput, Rejected
from tests.chains.helpers import funded_signer, rpc_for, run
from tests.conftest import Chain


def _send(chain: Chain, signer: Signer, call: txs.ContractCall) -> tuple[txs.SignedTx, object]:
    async def go() -> tuple[txs.SignedTx, object]:
        async with rpc_for(chain) as rpc:
            nonce = chain.w3.eth.get_transaction_count(signer.address, "pending")
            signed, result = await txs.prepare(rpc, signer, chain.w3.eth.chain_id, nonce, call, await suggest_fees(rpc))
            assert await txs.broadcast(rpc, signed) == signed.tx_hash
            return signed, result

    signed, result = run(go())
    receipt = chain.w3.eth.wait_for_transaction_receipt(signed.tx_hash)
    assert receipt["status"] == 1
    return signed, result


def test_signing_uses_coincurve() -> None:
    assert signing_backend() == "CoinCurveECCBackend"


def test_exact_approval_then_v3_swap_equals_the_simulation(lab1: Chain) -> None:
    signer = funded_signer(lab1, tokens={"USDC": 50_000})
    usdc, weth = lab1.contract("USDC"), lab1.contract("WETH")
    router = lab1.deployment.address("SwapRouter")
    amount = 50_000 * 10**6
    _send(lab1, signer, txs.approve(usdc.address, router, amount))
    assert usdc.functions.allowance(signer.address, router).call() == amount
    call = txs.v3_exact_input_single(
        router, usdc.address, weth.address, 500, amount, 1, signer.address, lab1.deadline()
    )
    signed, result = _send(lab1, signer, call)
    assert isinstance(result, tuple)
    assert weth.functions.balanceOf(signer.address).call() == result[0] > 0  # realized == simulated, to the wei
    assert usdc.functions.allowance(signer.address, router).call() == 0
    tx = lab1.w3.eth.get_transaction(signed.tx_hash)
    assert tx["type"] == 2 and tx["nonce"] == signed.nonce == 1


def test_v2_two_hop_swap_and_wrap(lab1: Chain) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"DAI": 10_000})
    dai, usdc, weth = lab1.contract("DAI"), lab1.contract("USDC"), lab1.contract("WETH")
    router = lab1.deployment.address("UniswapV2Router02")
    _send(lab1, signer, txs.approve(dai.address, router, 10_000 * 10**18))
    path = [dai.address, usdc.address, weth.address]
    _, result = _send(
        lab1, signer, txs.v2_swap_exact_in(router, 10_000 * 10**18, 1, path, signer.address, lab1.deadline())
    )
    assert isinstance(result, tuple)
    out = result[0][-1]
    assert weth.functions.balanceOf(signer.address).call() == out
    _send(lab1, signer, txs.wrap(weth.address, 10**18))
    assert weth.functions.balanceOf(signer.address).call() == out + 10**18


def test_a_swap_that_would_get_less_than_min_out_is_not_signed(lab1: Chain) -> None:
    signer = funded_signer(lab1, tokens={"USDC": 1_000})
    usdc, weth = lab1.contract("USDC"), lab1.contract("WETH")
    router = lab1.deployment.address("SwapRouter")
    usdc.functions.approve(router, 10**9).transact({"from": lab1.dev})
    _send(lab1, signer, txs.approve(usdc.address, router, 1_000 * 10**6))
    nonce_before = lab1.w3.eth.get_transaction_count(signer.address)
    greedy = txs.v3_exact_input_single(
        router, usdc.address, weth.address, 500, 1_000 * 10**6, 10**18, signer.address, lab1.deadline()
    )  # 1 WETH for 1,000 USDC: impossible
    with pytest.raises(Rejected, match="Too little received"):
        _send(lab1, signer, greedy)
    expired = txs.v3_exact_input_single(router, usdc.address, weth.address, 500, 10**6, 1, signer.address, 1)
    with pytest.raises(Rejected, match="Transaction too old"):
        _send(lab1, signer, expired)
    assert lab1.w3.eth.get_transaction_count(signer.address) == nonce_before  # nothing was sent


def test_guards_refuse_swaps_without_min_out_or_deadline() -> None:
    with pytest.raises(InvalidInput, match="min_out"):
        txs.v3_exact_input_single(
            "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, 500, 10, 0, "0x" + "44" * 20, 99
        )
    with pytest.raises(InvalidInput, match="deadline"):
        txs.v2_swap_exact_in("0x" + "11" * 20, 10, 1, ["0x" + "22" * 20, "0x" + "33" * 20], "0x" + "44" * 20, 0)
    with pytest.raises(InvalidInput, match="exact approval"):
        txs.approve("0x" + "11" * 20, "0x" + "22" * 20, 0)
    assert txs.approve("0x" + "11" * 20, "0x" + "22" * 20, 0, unlimited=True).data.endswith(b"\xff" * 32)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("0x08c379a0" + "00" * 31 + "20" + "00" * 31 + "03" + "616263" + "00" * 29, "abc"),
        ("0x4e487b71" + "00" * 31 + "11", "panic 0x11"),
        ("0xdeadbeef", "custom error 0xdeadbeef"),
        ("0x", "reverted without a reason"),
    ],
)
def test_revert_reasons(data: str, reason: str) -> None:
    assert txs.revert_reason(data) == reason
