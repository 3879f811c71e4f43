"""New heads over the lab's WebSocket, polling when there is none, and the tracker following them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fillpath.chains import transactions as txs
from fillpath.chains.fees import Fees
from fillpath.chains.heads import heads, ws_heads
from fillpath.chains.tracker import TrackerPolicy, TxState, TxTracker
from fillpath.state.store import Store
from tests.chains.helpers import funded_signer, rpc_for, run
from tests.conftest import Chain


def _ws(chain: Chain) -> str:
    return str(chain.w3.provider.endpoint_uri).replace("http://", "ws://")  # type: ignore[attr-defined]


def _mine_soon(chain: Chain, n: int, delay: float = 0.2) -> asyncio.Task[None]:
    async def go() -> None:
        for _ in range(n):
            await asyncio.sleep(delay)
            await asyncio.to_thread(chain.w3.provider.make_request, "evm_mine", [])  # type: ignore[arg-type]

    return asyncio.create_task(go())


def test_ws_subscription_announces_each_block(lab1: Chain) -> None:
    start = lab1.w3.eth.block_number

    async def go() -> list[int]:
        seen: list[int] = []
        miner = _mine_soon(lab1, 3)
        async for n in ws_heads(_ws(lab1)):
            seen.append(n)
            if len(seen) == 3:
                break
        await miner
        return seen

    assert run(asyncio.wait_for(go(), 20)) == [start + 1, start + 2, start + 3]


def test_without_a_socket_heads_are_polled(lab1: Chain) -> None:
    start = lab1.w3.eth.block_number

    async def go() -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        async with rpc_for(lab1) as rpc:
            miner = _mine_soon(lab1, 2, delay=0.3)
            async for item in heads(rpc, "ws://127.0.0.1:9", poll_interval_s=0.05):  # nothing listens there
                if not out or item != out[-1]:
                    out.append(item)
                if item[0] >= start + 2:
                    break
            await miner
        return out

    got = run(asyncio.wait_for(go(), 20))
    assert {how for _, how in got} == {"poll"}
    assert got[-1][0] == start + 2


def test_the_tracker_follows_new_heads_to_confirmation(lab1: Chain, tmp_path: Path) -> None:
    signer = funded_signer(lab1)
    tx = txs.sign(signer, 31337, 0, txs.ContractCall(signer.address, b""), 21_000, Fees(5 * 10**9, 10**9))
    store = Store.open(f"sqlite:///{tmp_path / 'h.db'}")

    async def go() -> TxState:
        async with rpc_for(lab1) as rpc:
            tracker = TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=3))
            tracker.track(tx)
            await txs.broadcast(rpc, tx)
            stop = asyncio.Event()
            follower = asyncio.create_task(tracker.follow(_ws(lab1), stop, poll_interval_s=5.0))
            miner = _mine_soon(lab1, 4)
            for _ in range(100):
                if tracker.state(tx.tx_hash) is TxState.CONFIRMED:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await miner
            await follower
            return tracker.state(tx.tx_hash)

    assert run(asyncio.wait_for(go(), 30)) is TxState.CONFIRMED
    assert [r.event.kind for r in store.events()] == ["tx.broadcast", "tx.mined", "tx.confirmed"]
    store.close()
