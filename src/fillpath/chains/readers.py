"""On-chain state → snapshot venues: V2 reserves, V3 slot0/liquidity/initialized ticks, token metadata and
holdings, all read through Multicall3 at **one** block so the snapshot is consistent.

V3 ticks are found by walking the pool's tick bitmap within ``max_tick_distance`` of the current tick; the
snapshot lists only those, and the router never quotes past the listed range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from fillpath.chains.abi import AbiFunction, fn
from fillpath.chains.discovery import PoolDiscovery
from fillpath.chains.multicall import Call, multicall
from fillpath.chains.rpc import RpcClient, hex_int

V2_GAS = 90_000
V3_GAS = 110_000
STABLESWAP_GAS = 130_000
STABLESWAP_MAX_COINS = 4
"""A classic plain pool holds 2 to 4 coins; ``coins(i)`` past the last one reverts (read with allowed failure)."""
V3_GAS_PER_TICK = 30_000
WRAP_GAS = 30_000
DEFAULT_TICK_DISTANCE = 23_100  # ≈ a factor of 10 in price either way
MAX_WORDS_PER_SIDE = 64


@dataclass(frozen=True, slots=True)
class TokenRef:
    symbol: str
    address: str
    decimals: int


@dataclass(frozen=True, slots=True)
class PoolRef:
    kind: str  # "uniswap_v2" | "uniswap_v3" | "stableswap"
    address: str


# The Curve classic plain pool's views, by signature (any pool with this interface reads alike; A() is the
# classic amplification, without the A_PRECISION factor of later pools).
SS_COINS = AbiFunction("coins", ("uint256",), ("address",))
SS_BALANCES = AbiFunction("balances", ("uint256",), ("uint256",))
SS_A = AbiFunction("A", (), ("uint256",))
SS_FEE = AbiFunction("fee", (), ("uint256",))
ON_CHAIN_KINDS = ("uniswap_v2", "uniswap_v3", "stableswap", "wrap")
"""The snapshot venue kinds read here from chain state (``tests/test_venue_kinds.py`` holds this complete)."""


@dataclass(frozen=True, slots=True)
class ChainSource:
    """What to read on one EVM location."""

    location: str
    chain_id: int
    multicall: str
    tokens: tuple[TokenRef, ...]
    pools: tuple[PoolRef, ...]
    native: str = "ETH"
    wrapped_native: str | None = "WETH"
    holder: str | None = None
    v2_fee_ppm: int = 3000
    discovery: PoolDiscovery | None = field(default=None, compare=False)
    """Pools found from factories at the read's block (``chains/discovery.py``), added to ``pools``."""


@dataclass(frozen=True, slots=True)
class ChainRead:
    """One location's part of a snapshot, as snapshot JSON fragments (strings for every integer)."""

    location: dict[str, Any]
    assets: list[dict[str, Any]]
    venues: list[dict[str, Any]]
    holdings: dict[str, str]
    block: int


def _aid(symbol: str, location: str) -> str:
    return f"{symbol}@{location}"


async def read_chain(
    rpc: RpcClient, src: ChainSource, *, block: int | None = None, max_tick_distance: int = DEFAULT_TICK_DISTANCE
) -> ChainRead:
    head, gas_price = await rpc.batch([("eth_blockNumber", []), ("eth_gasPrice", [])])
    at = hex_int(head) if block is None else block
    by_addr = {t.address.lower(): t for t in src.tokens}
    loc = src.location
    pools = list(src.pools)
    if src.discovery is not None:
        listed = {p.address.lower() for p in pools}
        for hit in await src.discovery.pools(rpc, at):
            if hit.address not in listed:
                pools.append(PoolRef(hit.kind, to_checksum_address(hit.address)))

    # 1. token metadata, holdings, pool headers
    calls: list[Call] = []
    for t in src.tokens:
        calls += [Call(t.address, fn("ERC20", "decimals")), Call(t.address, fn("ERC20", "symbol"))]
        if src.holder:
            calls.append(Call(t.address, fn("ERC20", "balanceOf"), (src.holder,)))
    if src.holder:
        calls.append(Call(src.multicall, fn("Multicall3", "getEthBalance"), (src.holder,)))
    for p in pools:
        if p.kind == "uniswap_v2":
            calls += [Call(p.address, fn("UniswapV2Pair", n)) for n in ("token0", "token1", "getReserves")]
        elif p.kind == "stableswap":
            for f in (SS_COINS, SS_BALANCES):
                calls += [Call(p.address, f, (k,), allow_failure=k >= 2) for k in range(STABLESWAP_MAX_COINS)]
            calls += [Call(p.address, SS_A), Call(p.address, SS_FEE)]
        else:
            calls += [
                Call(p.address, fn("UniswapV3Pool", n))
                for n in ("token0", "token1", "fee", "tickSpacing", "slot0", "liquidity")
            ]
    res = iter(await multicall(rpc, src.multicall, calls, block=at))

    assets: list[dict[str, Any]] = [
        {"id": _aid(src.native, loc), "symbol": src.native, "decimals": 18, "address": None}
    ]
    holdings: dict[str, str] = {}
    for t in src.tokens:
        decimals, symbol = _one(next(res)), _one(next(res))
        if decimals != t.decimals or symbol != t.symbol:
            raise ValueError(
                f"{loc}: token {t.address} reports {symbol}/{decimals}, configured {t.symbol}/{t.decimals}"
            )
        assets.append({"id": _aid(t.symbol, loc), "symbol": t.symbol, "decimals": t.decimals, "address": t.address})
        if src.holder:
            holdings[_aid(t.symbol, loc)] = str(_one(next(res)))
    if src.holder:
        holdings[_aid(src.native, loc)] = str(_one(next(res)))

    venues: list[dict[str, Any]] = []
    v3_pending: list[tuple[dict[str, Any], int, int]] = []  # (venue, current tick, spacing)
    for p in pools:
        if p.kind == "uniswap_v2":
            t0, t1, reserves = _one(next(res)), _one(next(res)), next(res)
            assert reserves is not None
            venues.append(
                {
                    "kind": "uniswap_v2",
                    "id": f"{loc}:uniswap_v2:{p.address}",
                    "location": loc,
                    "address": p.address,
                    "token0": _aid(by_addr[t0.lower()].symbol, loc),
                    "token1": _aid(by_addr[t1.lower()].symbol, loc),
                    "reserve0": str(reserves[0]),
                    "reserve1": str(reserves[1]),
                    "fee_ppm": src.v2_fee_ppm,
                    "gas": str(V2_GAS),
                }
            )
        elif p.kind == "stableswap":
            venues.append(_stableswap_venue(p, loc, by_addr, res))
        else:
            t0, t1, fee, spacing = (_one(next(res)) for _ in range(4))
            slot0, liquidity = next(res), _one(next(res))
            assert slot0 is not None
            venue = {
                "kind": "uniswap_v3",
                "id": f"{loc}:uniswap_v3:{p.address}",
                "location": loc,
                "address": p.address,
                "token0": _aid(by_addr[t0.lower()].symbol, loc),
                "token1": _aid(by_addr[t1.lower()].symbol, loc),
                "fee_ppm": int(fee),
                "tick_spacing": int(spacing),
                "sqrt_price_x96": str(slot0[0]),
                "liquidity": str(liquidity),
                "tick": int(slot0[1]),
                "ticks": [],
                "gas": str(V3_GAS),
                "gas_per_tick": str(V3_GAS_PER_TICK),
            }
            venues.append(venue)
            v3_pending.append((venue, int(slot0[1]), int(spacing)))

    # 2. V3 tick bitmaps around each current tick, then 3. liquidityNet of every initialized tick found
    word_calls: list[Call] = []
    word_index: list[tuple[int, int]] = []  # (pool index, word position)
    for i, (pending, current, step) in enumerate(v3_pending):
        lo, hi = _word_range(current, step, max_tick_distance)
        for w in range(lo, hi + 1):
            word_calls.append(Call(str(pending["address"]), fn("UniswapV3Pool", "tickBitmap"), (w,)))
            word_index.append((i, w))
    words = await multicall(rpc, src.multicall, word_calls, block=at) if word_calls else []
    found: list[list[int]] = [[] for _ in v3_pending]
    for (i, w), word in zip(word_index, words, strict=True):
        bits = _one(word)
        _, current, step = v3_pending[i]
        while bits:
            low = bits & -bits
            tick_index = (w * 256 + low.bit_length() - 1) * step
            if abs(tick_index - current) <= max_tick_distance:
                found[i].append(tick_index)
            bits ^= low
    tick_calls = [
        Call(str(v3_pending[i][0]["address"]), fn("UniswapV3Pool", "ticks"), (tick_index,))
        for i, ticks in enumerate(found)
        for tick_index in sorted(ticks)
    ]
    tick_res = iter(await multicall(rpc, src.multicall, tick_calls, block=at) if tick_calls else [])
    for i, ticks in enumerate(found):
        rows = []
        for tick_index in sorted(ticks):
            info = next(tick_res)
            assert info is not None
            rows.append([str(tick_index), str(info[1])])  # liquidityNet
        v3_pending[i][0]["ticks"] = rows

    if src.wrapped_native and any(t.symbol == src.wrapped_native for t in src.tokens):
        venues.append(
            {
                "kind": "wrap",
                "id": f"{loc}:wrap:{src.wrapped_native}",
                "location": loc,
                "native": _aid(src.native, loc),
                "wrapped": _aid(src.wrapped_native, loc),
                "gas": str(WRAP_GAS),
            }
        )
    location = {
        "id": loc,
        "kind": "evm",
        "chain_id": src.chain_id,
        "native": _aid(src.native, loc),
        "gas_price_wei": str(hex_int(gas_price)),
        "block": at,
    }
    return ChainRead(location, assets, venues, holdings, at)


def _stableswap_venue(
    p: PoolRef, loc: str, by_addr: dict[str, TokenRef], res: Iterator[tuple[Any, ...] | None]
) -> dict[str, Any]:
    coins = [next(res) for _ in range(STABLESWAP_MAX_COINS)]
    balances = [next(res) for _ in range(STABLESWAP_MAX_COINS)]
    amp, fee = _one(next(res)), _one(next(res))
    n = next((k for k, c in enumerate(coins) if c is None), STABLESWAP_MAX_COINS)
    symbols = []
    for c in coins[:n]:
        token = by_addr.get(str(_one(c)).lower())
        if token is None:
            raise ValueError(f"{loc}: StableSwap pool {p.address} holds {_one(c)}, which is not a configured token")
        symbols.append(_aid(token.symbol, loc))
    return {
        "kind": "stableswap",
        "id": f"{loc}:stableswap:{p.address}",
        "location": loc,
        "address": p.address,
        "coins": symbols,
        "balances": [str(_one(b)) for b in balances[:n]],
        "amp": str(amp),
        "fee": str(fee),
        "gas": str(STABLESWAP_GAS),
    }


def _word_range(tick: int, spacing: int, distance: int) -> tuple[int, int]:
    compressed_lo = (tick - distance) // spacing
    compressed_hi = (tick + distance) // spacing
    lo, hi = compressed_lo >> 8, compressed_hi >> 8
    centre = (tick // spacing) >> 8
    return max(lo, centre - MAX_WORDS_PER_SIDE), min(hi, centre + MAX_WORDS_PER_SIDE)


def _one(result: Sequence[Any] | None) -> Any:
    if result is None:
        raise ValueError("a required on-chain read failed")
    return result[0]
