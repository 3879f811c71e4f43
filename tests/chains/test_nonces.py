"""Nonces on the real lab: contiguous under concurrency, never reused or left with a gap after kill -9."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from fillpath.chains import transactions as txs
from fillpath.chains.accounts import Signer
from fillpath.chains.fees import Fees
from fillpath.chains.nonces import NonceAllocator
from fillpath.state.store import Store
from tests.chains.helpers import rpc_for, run
from tests.conftest import Chain

FEES = Fees(5 * 10**9, 10**9)


def _noop(signer: Signer, nonce: int) -> txs.SignedTx:
    return txs.sign(signer, 31337, nonce, txs.ContractCall(signer.address, b"", what="noop"), 21_000, FEES)


def test_fifty_concurrent_transactions_get_fifty_contiguous_nonces(lab1: Chain, tmp_path: Path) -> None:
    signer = Signer(Account.create())
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": signer.address, "value": 10**18})
    store = Store.open(f"sqlite:///{tmp_path / 'n.db'}")

    async def go() -> list[int]:
        async with rpc_for(lab1) as rpc:
            alloc = NonceAllocator(rpc, "lab1", signer.address, store)

            async def one() -> int:
                nonce = await alloc.allocate()
                await txs.broadcast(rpc, _noop(signer, nonce))  # "nonce too low" would raise here
                return nonce

            return await asyncio.gather(*(one() for _ in range(50)))

    nonces = run(go())
    assert sorted(nonces) == list(range(50))
    for _ in range(100):
        if lab1.w3.eth.get_transaction_count(signer.address) == 50:
            break
        lab1.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert lab1.w3.eth.get_transaction_count(signer.address) == 50
    assert store.next_nonce("lab1", signer.address) == 50
    store.close()


@pytest.mark.parametrize(("kill_at", "phase"), [(7, "allocated"), (12, "sent"), (0, "allocated")])
def test_kill_9_mid_batch_then_restart_reuses_no_nonce_and_leaves_no_gap(
    lab1: Chain, tmp_path: Path, kill_at: int, phase: str
) -> None:
    account = Account.create()
    signer = Signer(account)
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": signer.address, "value": 10**18})
    db = f"sqlite:///{tmp_path / 'n.db'}"
    env = {**os.environ, "FP_WORKER_KEY": account.key.hex()}
    worker = Path(__file__).with_name("nonce_worker.py")
    url = lab1.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    res = subprocess.run(
        [sys.executable, str(worker), url, db, "20", str(kill_at), phase], env=env, timeout=120, capture_output=True
    )
    assert res.returncode == -9, res.stderr.decode()[-2000:]

    store = Store.open(db)
    booked = store.next_nonce("lab1", signer.address)
    assert booked == kill_at + 1  # the allocation was durable before the nonce was used

    async def restart() -> tuple[list[int], int]:
        async with rpc_for(lab1) as rpc:
            alloc = NonceAllocator(rpc, "lab1", signer.address, store)
            await alloc.sync()
            filled = await alloc.fill_gaps(lambda n: txs.broadcast(rpc, _noop(signer, n)))
            nxt = await alloc.allocate()
            await txs.broadcast(rpc, _noop(signer, nxt))
            return [n for n, _ in filled], nxt

    filled, nxt = run(restart())
    assert filled == ([kill_at] if phase == "allocated" else [])  # the allocated, never-sent nonce is the gap
    assert nxt == kill_at + 1  # no reuse
    for _ in range(50):
        if lab1.w3.eth.get_transaction_count(signer.address) == nxt + 1:
            break
        lab1.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert lab1.w3.eth.get_transaction_count(signer.address) == nxt + 1  # no gap: every nonce below was mined
    store.close()
