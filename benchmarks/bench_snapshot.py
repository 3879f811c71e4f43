"""Snapshot time for ~100 pools on the lab through Multicall3, against one eth_call per read (same run).

Run: ``.venv/bin/python benchmarks/bench_snapshot.py [--v2 N] [--v3 N] [--runs N]``. It starts a private lab,
adds pools among fresh tokens (V2 pairs, and V3 pools with three positions each), then reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web3 import Web3

from _table import median, pct, table
from fillpath.chains.abi import fn
from fillpath.chains.readers import ChainSource, PoolRef, TokenRef, read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.lab.chains.deploy import _Sender
from fillpath.lab.manager import Lab


def add_pools(url: str, contracts: dict[str, str], n_v2: int, n_v3: int) -> tuple[list[TokenRef], list[PoolRef]]:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    tx = _Sender(w3, w3.eth.accounts[0], lambda _m: None)
    dev = tx.sender
    tokens = []
    for i in range(16):
        c = tx.deploy("LabToken", f"Bench {i}", f"B{i}", 18)
        tx.send(c.functions.mint(dev, 10**40), "mint")
        tokens.append(c)
    pairs = list(combinations(tokens, 2))
    factory = tx.at("UniswapV2Factory", contracts["UniswapV2Factory"])
    pools: list[PoolRef] = []
    for a, b in pairs[:n_v2]:
        tx.send(factory.functions.createPair(a.address, b.address), "pair")
        pair = factory.functions.getPair(a.address, b.address).call()
        tx.send(a.functions.transfer(pair, 10**24), "fund")
        tx.send(b.functions.transfer(pair, 10**24), "fund")
        tx.send(tx.at("UniswapV2Pair", pair).functions.mint(dev), "mint")
        pools.append(PoolRef("uniswap_v2", pair))
    npm = tx.at("NonfungiblePositionManager", contracts["NonfungiblePositionManager"])
    v3f = tx.at("UniswapV3Factory", contracts["UniswapV3Factory"])
    for a, b in pairs[n_v2 : n_v2 + n_v3]:
        t0, t1 = sorted((a, b), key=lambda c: int(c.address, 16))
        tx.send(npm.functions.createAndInitializePoolIfNecessary(t0.address, t1.address, 3000, 2**96), "pool")
        for c in (t0, t1):
            tx.send(c.functions.approve(npm.address, 3 * 10**23), "approve")
        for k in (1, 2, 3):
            p = (t0.address, t1.address, 3000, -600 * k, 600 * k, 10**23, 10**23, 0, 0, dev, 2**32)
            tx.send(npm.functions.mint(p), "position")
        pools.append(PoolRef("uniswap_v3", v3f.functions.getPool(t0.address, t1.address, 3000).call()))
    return [TokenRef(f"B{i}", c.address, 18) for i, c in enumerate(tokens)], pools


async def naive(rpc: RpcClient, src: ChainSource) -> int:
    """The reference: one eth_call per read, sequentially (what a reader without Multicall3 does)."""
    calls = 0
    for p in src.pools:
        names = ("token0", "token1", "getReserves") if p.kind == "uniswap_v2" else (
            "token0", "token1", "fee", "tickSpacing", "slot0", "liquidity")  # fmt: skip
        abi = "UniswapV2Pair" if p.kind == "uniswap_v2" else "UniswapV3Pool"
        for n in names:
            await rpc.request("eth_call", [{"to": p.address, "data": "0x" + fn(abi, n).encode().hex()}, "latest"])
            calls += 1
    return calls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--v2", type=int, default=70)
    ap.add_argument("--v3", type=int, default=30)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(Path(tmp))
        node = next(n for n in lab.up() if n.location == "lab1")
        try:
            assert node.rpc_url and node.deployment
            t = time.perf_counter()
            tokens, pools = add_pools(node.rpc_url, dict(node.deployment.contracts), args.v2, args.v3)
            setup = time.perf_counter() - t
            src = ChainSource("lab1", 31337, node.deployment.address("Multicall3"), tuple(tokens), tuple(pools))

            async def run() -> tuple[list[float], list[float], int]:
                fast, slow = [], []
                async with RpcClient("lab1", [node.rpc_url or ""], timeout_s=60) as rpc:
                    read = await read_chain(rpc, src)
                    ticks = sum(len(v.get("ticks", [])) for v in read.venues)
                    for _ in range(args.runs):
                        t0 = time.perf_counter()
                        await read_chain(rpc, src)
                        fast.append((time.perf_counter() - t0) * 1000)
                    for _ in range(max(3, args.runs // 3)):
                        t0 = time.perf_counter()
                        await naive(rpc, src)
                        slow.append((time.perf_counter() - t0) * 1000)
                return fast, slow, ticks

            fast, slow, ticks = asyncio.run(run())
        finally:
            lab.down()
    rows = [
        (f"readers (Multicall3, one block): {len(pools)} pools, {ticks} ticks", len(fast), f"{median(fast):.1f}",
         f"{pct(fast, 99):.1f}", f"{median(fast) / median(slow):.3f}"),
        ("reference: one eth_call per pool field, headers only", len(slow), f"{median(slow):.1f}",
         f"{pct(slow, 99):.1f}", "1.000"),
    ]  # fmt: skip
    print(f"(set-up: {len(pools)} pools deployed in {setup:.1f}s)")
    print(
        table(
            "snapshot of lab pools (ms; ratio vs sequential eth_calls in this run)",
            ["case", "n", "median", "p99", "ratio"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
