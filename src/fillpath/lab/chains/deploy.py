"""Deploy and seed the lab on any web3 backend: an anvil node over HTTP or eth-tester in-process.

There is one deployment path, so what the fast in-process tests exercise is what the real lab runs.
The deployer is the chain's first unlocked account (anvil's first key; eth-tester's first account); no private
key is handled here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, localcontext
from fractions import Fraction
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from fillpath.lab.chains import artifacts
from fillpath.lab.chains.deployment import DeployedPool, DeployedToken, LabDeployment
from fillpath.lab.chains.spec import (
    TICK_SPACING,
    TOKENS,
    WETH,
    ChainSpec,
    StableSwapSpec,
    V3PoolSpec,
    sqrt_price_x96,
)
from fillpath.model.errors import LabError

SEED_DEADLINE = 2**32 - 1  # lab seeding only; product transactions use short, chain-relative deadlines
MIN_TICK, MAX_TICK = -887272, 887272


@dataclass
class _Sender:
    """Sends transactions from the deployer and insists that each one succeeds."""

    w3: Web3
    sender: ChecksumAddress
    log: Callable[[str], None]
    sent: int = field(default=0)

    def deploy(self, name: str, *args: Any) -> Contract:
        art = artifacts.load(name)
        factory = self.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        tx = factory.constructor(*args).transact({"from": self.sender})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        self.sent += 1
        if receipt["status"] != 1 or not receipt["contractAddress"]:
            raise LabError(f"deploying {name} failed (tx {tx.hex()})")
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)

    def send(self, call: Any, what: str, value: int = 0) -> Any:
        params: dict[str, Any] = {"from": self.sender}
        if value:
            params["value"] = value
        try:
            tx = call.transact(params)
        except Exception as exc:
            raise LabError(f"{what}: {exc}") from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        self.sent += 1
        if receipt["status"] != 1:
            raise LabError(f"{what} reverted (tx {tx.hex()})")
        return receipt

    def at(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifacts.abi(name))


def _units(amount: Decimal, decimals: int) -> int:
    return int((amount * (Decimal(10) ** decimals)).to_integral_value())


def _tick_at(price_raw: Fraction, spacing: int, *, up: bool) -> int:
    """The tick aligned to ``spacing`` nearest to a raw price, rounded outward so ranges never shrink."""
    t = math.log(price_raw) / math.log(1.0001)
    aligned = (math.ceil(t / spacing) if up else math.floor(t / spacing)) * spacing
    lo = math.ceil(MIN_TICK / spacing) * spacing
    hi = math.floor(MAX_TICK / spacing) * spacing
    return max(lo, min(hi, aligned))


def _position_amounts(
    price_raw: Fraction,
    tick_lo: int,
    tick_hi: int,
    usd: Decimal,
    usd0: Decimal,
    usd1: Decimal,
    d0: int,
    d1: int,
) -> tuple[int, int]:
    """Token amounts (base units) a position in [tick_lo, tick_hi] needs to hold ``usd`` at ``price_raw``."""
    with localcontext() as ctx:
        ctx.prec = 60
        base = Decimal("1.0001")
        sa = base ** (Decimal(tick_lo) / 2)
        sb = base ** (Decimal(tick_hi) / 2)
        sp = (Decimal(price_raw.numerator) / Decimal(price_raw.denominator)).sqrt()
        if sp <= sa:
            a0, a1 = 1 / sa - 1 / sb, Decimal(0)
        elif sp >= sb:
            a0, a1 = Decimal(0), sb - sa
        else:
            a0, a1 = 1 / sp - 1 / sb, sp - sa
        value_per_l = a0 * usd0 / Decimal(10) ** d0 + a1 * usd1 / Decimal(10) ** d1
        liquidity = usd / value_per_l
        amt0 = int((liquidity * a0).to_integral_value(ROUND_CEILING)) + (1 if a0 else 0)
        amt1 = int((liquidity * a1).to_integral_value(ROUND_CEILING)) + (1 if a1 else 0)
        return amt0, amt1


def deploy_lab(w3: Web3, spec: ChainSpec, *, log: Callable[[str], None] = lambda _m: None) -> LabDeployment:
    """Deploy every lab contract and seed every pool of ``spec`` on ``w3``; return what was deployed."""
    dev = w3.eth.accounts[0]
    tx = _Sender(w3, dev, log)
    contracts: dict[str, str] = {}

    weth = tx.deploy("WETH9")
    contracts["WETH9"] = weth.address
    tokens: dict[str, tuple[Contract, int]] = {"WETH": (weth, WETH.decimals)}
    for t in TOKENS:
        c = tx.deploy("LabToken", t.name, t.symbol, t.decimals)
        tokens[t.symbol] = (c, t.decimals)
    contracts["Multicall3"] = tx.deploy("Multicall3").address

    v2_factory = tx.deploy("UniswapV2Factory", dev)
    contracts["UniswapV2Factory"] = v2_factory.address
    contracts["UniswapV2Router02"] = tx.deploy("UniswapV2Router02", v2_factory.address, weth.address).address
    v3_factory = tx.deploy("UniswapV3Factory")
    contracts["UniswapV3Factory"] = v3_factory.address
    tx.send(v3_factory.functions.enableFeeAmount(100, 1), "enable the 0.01% fee tier")
    contracts["SwapRouter"] = tx.deploy("SwapRouter", v3_factory.address, weth.address).address
    contracts["QuoterV2"] = tx.deploy("QuoterV2", v3_factory.address, weth.address).address
    npm = tx.deploy("NonfungiblePositionManager", v3_factory.address, weth.address, "0x" + "00" * 20)
    contracts["NonfungiblePositionManager"] = npm.address
    log(f"{spec.location}: contracts deployed")

    # Fund the deployer (the development account): seed amounts plus what it keeps.
    need = _seed_needs(spec, tokens)
    for sym, keep in spec.dev_tokens:
        c, dec = tokens[sym]
        tx.send(c.functions.mint(dev, need.get(sym, 0) + _units(keep, dec)), f"mint {sym}")
    tx.send(weth.functions.deposit(), "wrap ETH", value=need.get("WETH", 0) + _units(spec.dev_weth, 18))

    pools: list[DeployedPool] = []
    for p2 in spec.v2:
        pools.append(_seed_v2(tx, spec, v2_factory, tokens, p2.a, p2.b, p2.usd))
    for p3 in spec.v3:
        pools.append(_seed_v3(tx, spec, v3_factory, npm, tokens, p3))
    # Deployed after the pools so that every other lab address stays where it was before the executor existed;
    # the StableSwap pools and the aggregator's contracts come after it for the same reason.
    contracts["FillpathExecutor"] = tx.deploy("FillpathExecutor", weth.address, v3_factory.address).address
    for ss in spec.stableswap:
        pools.append(_seed_stableswap(tx, spec, tokens, ss))
    private: list[DeployedPool] = []
    if spec.aggregator_v2:
        labswap = tx.deploy("UniswapV2Factory", dev)
        contracts["LabSwapFactory"] = labswap.address
        private = [_seed_v2(tx, spec, labswap, tokens, p.a, p.b, p.usd) for p in spec.aggregator_v2]
    if spec.aggregator:
        holder = tx.deploy("LabAllowanceHolder")
        contracts["LabAllowanceHolder"] = holder.address
        contracts["LabAggregator"] = tx.deploy("LabAggregator", holder.address).address
    log(f"{spec.location}: {len(pools) + len(private)} pools seeded ({tx.sent} transactions)")

    return LabDeployment(
        location=spec.location,
        chain_id=w3.eth.chain_id,
        dev=dev,
        contracts=tuple(contracts.items()),
        tokens=tuple(DeployedToken(s, c.address, d) for s, (c, d) in tokens.items()),
        pools=tuple(pools),
        aggregator_pools=tuple(private),
    )


def _ordered(tokens: dict[str, tuple[Contract, int]], a: str, b: str) -> tuple[str, str]:
    return (a, b) if int(tokens[a][0].address, 16) < int(tokens[b][0].address, 16) else (b, a)


def _v2_amounts(
    spec: ChainSpec, tokens: dict[str, tuple[Contract, int]], a: str, b: str, usd: Decimal
) -> dict[str, int]:
    half = usd / 2
    return {s: _units(half / spec.price(s), tokens[s][1]) for s in (a, b)}


def _v3_plan(
    spec: ChainSpec, tokens: dict[str, tuple[Contract, int]], pool: V3PoolSpec
) -> tuple[str, str, Fraction, list[tuple[int, int, int, int]]]:
    """token0, token1, raw price (token1 per token0) and the mints (tick_lo, tick_hi, amount0, amount1)."""
    t0, t1 = _ordered(tokens, pool.a, pool.b)
    d0, d1 = tokens[t0][1], tokens[t1][1]
    u0, u1 = spec.price(t0), spec.price(t1)
    price_raw = Fraction(u0) / Fraction(u1) * Fraction(10**d1, 10**d0)
    spacing = TICK_SPACING[pool.fee]
    mints = []
    for pos in pool.positions:
        # position multipliers are on the price of `a` in `b`; invert them when a is token1
        lo, hi = (pos.lo, pos.hi) if t0 == pool.a else (1 / pos.hi, 1 / pos.lo)
        tl = _tick_at(price_raw * lo, spacing, up=False)
        tu = _tick_at(price_raw * hi, spacing, up=True)
        if tu <= tl:
            tu = tl + spacing
        a0, a1 = _position_amounts(price_raw, tl, tu, pos.usd, u0, u1, d0, d1)
        mints.append((tl, tu, a0, a1))
    return t0, t1, price_raw, mints


def _stableswap_amounts(spec: ChainSpec, tokens: dict[str, tuple[Contract, int]], pool: StableSwapSpec) -> list[int]:
    return [_units(pool.usd / spec.price(s), tokens[s][1]) for s in pool.coins]


def _seed_needs(spec: ChainSpec, tokens: dict[str, tuple[Contract, int]]) -> dict[str, int]:
    need: dict[str, int] = {}
    for ss in spec.stableswap:
        for s, amt in zip(ss.coins, _stableswap_amounts(spec, tokens, ss), strict=True):
            need[s] = need.get(s, 0) + amt
    for p2 in (*spec.v2, *spec.aggregator_v2):
        for s, amt in _v2_amounts(spec, tokens, p2.a, p2.b, p2.usd).items():
            need[s] = need.get(s, 0) + amt
    for p3 in spec.v3:
        t0, t1, _, mints = _v3_plan(spec, tokens, p3)
        need[t0] = need.get(t0, 0) + sum(m[2] for m in mints)
        need[t1] = need.get(t1, 0) + sum(m[3] for m in mints)
    return need


def _seed_v2(
    tx: _Sender,
    spec: ChainSpec,
    factory: Contract,
    tokens: dict[str, tuple[Contract, int]],
    a: str,
    b: str,
    usd: Decimal,
) -> DeployedPool:
    t0, t1 = _ordered(tokens, a, b)
    tx.send(factory.functions.createPair(tokens[t0][0].address, tokens[t1][0].address), f"createPair {a}/{b}")
    pair_addr = factory.functions.getPair(tokens[t0][0].address, tokens[t1][0].address).call()
    amounts = _v2_amounts(spec, tokens, a, b, usd)
    for s in (t0, t1):
        tx.send(tokens[s][0].functions.transfer(pair_addr, amounts[s]), f"fund {a}/{b} pair with {s}")
    tx.send(tx.at("UniswapV2Pair", pair_addr).functions.mint(tx.sender), f"mint {a}/{b} liquidity")
    return DeployedPool("uniswap_v2", pair_addr, t0, t1, 3000)


def _seed_v3(
    tx: _Sender,
    spec: ChainSpec,
    factory: Contract,
    npm: Contract,
    tokens: dict[str, tuple[Contract, int]],
    pool: V3PoolSpec,
) -> DeployedPool:
    t0, t1, price_raw, mints = _v3_plan(spec, tokens, pool)
    c0, c1 = tokens[t0][0], tokens[t1][0]
    what = f"V3 {t0}/{t1} {pool.fee}"
    tx.send(
        npm.functions.createAndInitializePoolIfNecessary(c0.address, c1.address, pool.fee, sqrt_price_x96(price_raw)),
        f"create {what}",
    )
    tx.send(c0.functions.approve(npm.address, sum(m[2] for m in mints)), f"approve {t0} for {what}")
    tx.send(c1.functions.approve(npm.address, sum(m[3] for m in mints)), f"approve {t1} for {what}")
    for tl, tu, a0, a1 in mints:
        params = (c0.address, c1.address, pool.fee, tl, tu, a0, a1, 0, 0, tx.sender, SEED_DEADLINE)
        tx.send(npm.functions.mint(params), f"mint {what} [{tl}, {tu}]")
    address = factory.functions.getPool(c0.address, c1.address, pool.fee).call()
    return DeployedPool("uniswap_v3", address, t0, t1, pool.fee, TICK_SPACING[pool.fee])


def _seed_stableswap(
    tx: _Sender, spec: ChainSpec, tokens: dict[str, tuple[Contract, int]], pool: StableSwapSpec
) -> DeployedPool:
    """A LabStableSwap over ``pool.coins`` (in that order), seeded with an equal USD value of each."""
    coins = [tokens[s][0] for s in pool.coins]
    name = "/".join(pool.coins)
    c = tx.deploy("LabStableSwap", [x.address for x in coins], pool.amp, pool.fee, pool.admin_fee, tx.sender,
                  f"lab {name}", "lab" + "".join(s[0] for s in pool.coins))  # fmt: skip
    amounts = _stableswap_amounts(spec, tokens, pool)
    for token, amount in zip(coins, amounts, strict=True):
        tx.send(token.functions.approve(c.address, amount), f"approve {name} StableSwap")
    tx.send(c.functions.add_liquidity(amounts, 0), f"seed the {name} StableSwap")
    # fee over 1e10 → ppm for display; the snapshot reads the pool's own fee
    return DeployedPool("stableswap", c.address, pool.coins[0], pool.coins[1], pool.fee // 10_000, None, pool.coins)


def deploy_all(w3s: Sequence[tuple[Web3, ChainSpec]]) -> list[LabDeployment]:
    return [deploy_lab(w3, spec) for w3, spec in w3s]
