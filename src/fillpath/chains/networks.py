"""Descriptions of real networks: where Uniswap V2/V3, QuoterV2, the routers and Multicall3 live, and a token list.

A location configured with ``discovery = {network = "ethereum"}`` finds its pools from these factories
(``chains/discovery.py``); a fork of one of these chains knows what it forked by its chain id. Addresses are from
Uniswap's and the chains' deployment pages; ``start_block`` is the factory's deployment block or a lower bound of
it (a start too early only costs log queries; too late would miss pools, so bounds err early).
"""

from __future__ import annotations

from dataclasses import dataclass

from fillpath.chains.readers import TokenRef

MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
"""Multicall3 sits at the same address on every chain here (deployed by a keyless transaction)."""
V3_FEE_TIERS = (100, 500, 3000, 10000)
"""The fee tiers Uniswap V3's factories enable (ppm): 0.01%, 0.05%, 0.3%, 1%."""


@dataclass(frozen=True, slots=True)
class UniswapV2:
    factory: str
    router: str
    start_block: int
    fee_ppm: int = 3000


@dataclass(frozen=True, slots=True)
class UniswapV3:
    factory: str
    quoter_v2: str
    router: str  # SwapRouter02
    start_block: int
    fee_tiers: tuple[int, ...] = V3_FEE_TIERS


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    chain_id: int
    native: str
    wrapped_native: str
    tokens: tuple[TokenRef, ...]
    uniswap_v2: UniswapV2
    uniswap_v3: UniswapV3
    multicall: str = MULTICALL3

    def token(self, symbol: str) -> TokenRef:
        for t in self.tokens:
            if t.symbol == symbol:
                return t
        raise KeyError(f"{self.name} has no token {symbol!r}; it lists {', '.join(t.symbol for t in self.tokens)}")


ETHEREUM = Network(
    name="ethereum",
    chain_id=1,
    native="ETH",
    wrapped_native="WETH",
    tokens=(
        TokenRef("WETH", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 18),
        TokenRef("USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6),
        TokenRef("USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6),
        TokenRef("DAI", "0x6B175474E89094C44Da98b954EedeAC495271d0F", 18),
        TokenRef("WBTC", "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", 8),
    ),
    uniswap_v2=UniswapV2(
        factory="0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f",
        router="0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D",
        start_block=10_000_835,
    ),
    uniswap_v3=UniswapV3(
        factory="0x1F98431c8aD98523631AE4a59f267346ea31F984",
        quoter_v2="0x61fFE014bA17989E743c5F6cB21bF9697530B21e",
        router="0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45",
        start_block=12_369_621,
    ),
)

ARBITRUM = Network(
    name="arbitrum",
    chain_id=42161,
    native="ETH",
    wrapped_native="WETH",
    tokens=(
        TokenRef("WETH", "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", 18),
        TokenRef("USDC", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6),
        TokenRef("USDT", "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", 6),
        TokenRef("DAI", "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1", 18),
        TokenRef("WBTC", "0x2f2a2543B76A4166549F7aaB2e75Bef0aefC5B0f", 8),
    ),
    uniswap_v2=UniswapV2(
        factory="0xf1D7CC64Fb4452F05c498126312eBE29f30Fbcf9",
        router="0x4752ba5DBc23f44D87826276BF6Fd6b1C372aD24",
        start_block=150_000_000,  # a lower bound (deployed late 2023)
    ),
    uniswap_v3=UniswapV3(
        factory="0x1F98431c8aD98523631AE4a59f267346ea31F984",
        quoter_v2="0x61fFE014bA17989E743c5F6cB21bF9697530B21e",
        router="0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45",
        start_block=165,
    ),
)

BASE = Network(
    name="base",
    chain_id=8453,
    native="ETH",
    wrapped_native="WETH",
    tokens=(
        TokenRef("WETH", "0x4200000000000000000000000000000000000006", 18),
        TokenRef("USDC", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6),
        TokenRef("USDbC", "0xd9aAEc86B65D86f6A7B5B1b0c42FFA531710b6CA", 6),
        TokenRef("DAI", "0x50c5725949A6F0c72E6C4a641F24049A917DB0Cb", 18),
    ),
    uniswap_v2=UniswapV2(
        factory="0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6",
        router="0x4752ba5DBc23f44D87826276BF6Fd6b1C372aD24",
        start_block=6_000_000,  # a lower bound (deployed late 2023)
    ),
    uniswap_v3=UniswapV3(
        factory="0x33128a8fC17869897dcE68Ed026d694621f6FDfD",
        quoter_v2="0x3d4e44Eb1374240CE5F1B871ab261CD16335B76a",
        router="0x2626664c2603336E57B271c5C0b26F421741e481",
        start_block=1_371_000,  # a lower bound
    ),
)

NETWORKS: dict[str, Network] = {n.name: n for n in (ETHEREUM, ARBITRUM, BASE)}


def network(name: str) -> Network:
    try:
        return NETWORKS[name]
    except KeyError:
        raise KeyError(f"no network named {name!r}; fillpath describes {', '.join(NETWORKS)}") from None


def by_chain_id(chain_id: int) -> Network | None:
    return next((n for n in NETWORKS.values() if n.chain_id == chain_id), None)
