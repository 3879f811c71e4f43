"""Signs a transaction, journals it, broadcasts it, and is killed (kill -9) right after: argv rpc_url db_url."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from fillpath.chains import transactions as txs
from fillpath.chains.accounts import signer_from_env
from fillpath.chains.fees import Fees
from fillpath.chains.rpc import RpcClient
from fillpath.chains.tracker import TxTracker
from fillpath.state.store import Store


async def main(url: str, db: str) -> None:
    signer = signer_from_env("FP_WORKER_KEY")
    store = Store.open(db)
    async with RpcClient("lab1", [url]) as rpc:
        tx = txs.sign(signer, 31337, 0, txs.ContractCall(signer.address, b"", value=7), 21_000, Fees(5 * 10**9, 10**9))
        TxTracker(rpc, "lab1", store).track(tx, intent_id="intent-1")
        await txs.broadcast(rpc, tx)
        print(tx.tx_hash, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
