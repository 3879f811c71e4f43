"""A worker that allocates nonces and sends transactions, then kills itself (kill -9) at a chosen point.

argv: rpc_url db_url count kill_at phase   (phase: "allocated" = after allocating, before sending; "sent")
The key comes from the environment (FP_WORKER_KEY), as fillpath requires.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from fillpath.chains import transactions as txs
from fillpath.chains.accounts import signer_from_env
from fillpath.chains.fees import Fees
from fillpath.chains.nonces import NonceAllocator
from fillpath.chains.rpc import RpcClient
from fillpath.state.store import Store


async def main(url: str, db: str, count: int, kill_at: int, phase: str) -> None:
    signer = signer_from_env("FP_WORKER_KEY")
    store = Store.open(db)
    async with RpcClient("lab1", [url]) as rpc:
        alloc = NonceAllocator(rpc, "lab1", signer.address, store)
        await alloc.sync()
        for i in range(count):
            nonce = await alloc.allocate()
            if i == kill_at and phase == "allocated":
                os.kill(os.getpid(), signal.SIGKILL)
            call = txs.ContractCall(signer.address, b"", what="noop")
            tx = txs.sign(signer, 31337, nonce, call, 21_000, Fees(5 * 10**9, 10**9))
            await txs.broadcast(rpc, tx)
            if i == kill_at and phase == "sent":
                os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]))
