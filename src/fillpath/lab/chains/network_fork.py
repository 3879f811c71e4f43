"""A fork of a real network (Ethereum, Arbitrum, Base): what the lab knows is on it, from the network's
description (``chains/networks.py``), its pools found by discovery at the fork's block, and fillpath's executor,
which the real chain does not have, deployed on the fork."""

from __future__ import annotations

import asyncio

from eth_utils.address import to_checksum_address

from fillpath.chains.discovery import Factory, PoolDiscovery
from fillpath.chains.networks import Network
from fillpath.chains.rpc import RpcClient
from fillpath.lab.chains import artifacts, rpc
from fillpath.lab.chains.deployment import DeployedPool, DeployedToken, LabDeployment
from fillpath.lab.chains.fork import Upstream
from fillpath.model.errors import LabError

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
"""anvil's first development account (its default mnemonic), funded on every fork: it deploys the executor."""


def describe(net: Network, up: Upstream) -> LabDeployment:
    """The network's contracts and tokens, and every Uniswap pool between its tokens at the fork's block (the
    factories' getPair/getPool through Multicall3: one request; the creation-event scan is left to the collector)."""
    factories = (
        Factory("uniswap_v2", net.uniswap_v2.factory, net.uniswap_v2.start_block),
        Factory("uniswap_v3", net.uniswap_v3.factory, net.uniswap_v3.start_block, net.uniswap_v3.fee_tiers),
    )
    discovery = PoolDiscovery(factories, tuple(t.address for t in net.tokens), net.multicall, events=False)

    async def find() -> list[DeployedPool]:
        async with RpcClient(net.name, [up.url]) as client:
            found = await discovery.pools(client, up.block)
        symbol = {t.address.lower(): t.symbol for t in net.tokens}
        return [
            DeployedPool(p.kind, to_checksum_address(p.address), symbol[p.token0], symbol[p.token1], p.fee_ppm)
            for p in found
        ]

    pools = tuple(asyncio.run(find()))
    contracts = (
        ("Multicall3", net.multicall),
        ("WETH9", net.token(net.wrapped_native).address),
        ("UniswapV2Factory", net.uniswap_v2.factory),
        ("UniswapV2Router02", net.uniswap_v2.router),
        ("UniswapV3Factory", net.uniswap_v3.factory),
        ("QuoterV2", net.uniswap_v3.quoter_v2),
        ("SwapRouter02", net.uniswap_v3.router),
    )
    tokens = tuple(DeployedToken(t.symbol, t.address, t.decimals) for t in net.tokens)
    return LabDeployment(net.name, net.chain_id, DEV, contracts, tokens, pools)


def deploy_executor(url: str, dep: LabDeployment) -> LabDeployment:
    """Deploy ``FillpathExecutor`` (WETH, the V3 factory) on the fork from the development account."""
    from web3 import Web3

    art = artifacts.load("FillpathExecutor")
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    weth, factory = (Web3.to_checksum_address(dep.address(n)) for n in ("WETH9", "UniswapV3Factory"))
    tx = w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(weth, factory).transact({"from": dep.dev})
    receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=60)
    if receipt["status"] != 1 or rpc.call(url, "eth_getCode", [receipt["contractAddress"], "latest"]) in (None, "0x"):
        raise LabError(f"{dep.location}: deploying FillpathExecutor on the fork failed (transaction {tx.hex()})")
    contracts = (*dep.contracts, ("FillpathExecutor", str(receipt["contractAddress"])))
    return LabDeployment(dep.location, dep.chain_id, dep.dev, contracts, dep.tokens, dep.pools, dep.aggregator_pools)
