"""LabStableSwap (``contracts/src/LabStableSwap.sol``) from Python: the Curve classic plain pool's calls, its
state as the router's ``StableSwapPool`` sees it, and its events and errors.

The pool pays exactly ``router/venues/stableswap.py``'s ``get_dy`` (tests/contracts/test_stableswap_parity.py
holds the two equal on random pools), so ``venue(read_state(...))`` quotes what ``exchange`` will pay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.types import BlockIdentifier

from fillpath.lab.contracts.abi import ContractError, ErrorSpec, Event, Function, Param, decode_error
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.venues.stableswap import StableSwapPool

FEE_DENOMINATOR: Final = 10**10
MAX_FEE: Final = 5 * 10**9
MAX_A: Final = 10**6

CONSTRUCTOR: Final = ("address[]", "uint256", "uint256", "uint256", "address", "string", "string")

COINS: Final = Function("coins", ("uint256",), ("address",))
BALANCES: Final = Function("balances", ("uint256",), ("uint256",))
A: Final = Function("A", (), ("uint256",))
FEE: Final = Function("fee", (), ("uint256",))
ADMIN_FEE: Final = Function("admin_fee", (), ("uint256",))
N_COINS: Final = Function("N_COINS", (), ("uint256",))
STORED_RATES: Final = Function("stored_rates", (), ("uint256[]",))
GET_DY: Final = Function("get_dy", ("int128", "int128", "uint256"), ("uint256",))
GET_D: Final = Function("get_D", (), ("uint256",))
GET_VIRTUAL_PRICE: Final = Function("get_virtual_price", (), ("uint256",))
ADMIN_BALANCES: Final = Function("admin_balances", ("uint256",), ("uint256",))
EXCHANGE: Final = Function("exchange", ("int128", "int128", "uint256", "uint256"), ("uint256",))
ADD_LIQUIDITY: Final = Function("add_liquidity", ("uint256[]", "uint256"), ("uint256",))
REMOVE_LIQUIDITY: Final = Function("remove_liquidity", ("uint256", "uint256[]"), ("uint256[]",))
WITHDRAW_ADMIN_FEES: Final = Function("withdraw_admin_fees", ())
FUNCTIONS: Final = (
    COINS, BALANCES, A, FEE, ADMIN_FEE, N_COINS, STORED_RATES, GET_DY, GET_D, GET_VIRTUAL_PRICE, ADMIN_BALANCES,
    EXCHANGE, ADD_LIQUIDITY, REMOVE_LIQUIDITY, WITHDRAW_ADMIN_FEES,
)  # fmt: skip

TOKEN_EXCHANGE: Final = Event(
    "TokenExchange",
    (
        Param("buyer", "address", indexed=True),
        Param("sold_id", "int128"),
        Param("tokens_sold", "uint256"),
        Param("bought_id", "int128"),
        Param("tokens_bought", "uint256"),
    ),
)
ADD_LIQUIDITY_EVENT: Final = Event(
    "AddLiquidity",
    (
        Param("provider", "address", indexed=True),
        Param("token_amounts", "uint256[]"),
        Param("fees", "uint256[]"),
        Param("invariant", "uint256"),
        Param("token_supply", "uint256"),
    ),
)
REMOVE_LIQUIDITY_EVENT: Final = Event(
    "RemoveLiquidity",
    (
        Param("provider", "address", indexed=True),
        Param("token_amounts", "uint256[]"),
        Param("fees", "uint256[]"),
        Param("token_supply", "uint256"),
    ),
)
EVENTS: Final = (TOKEN_EXCHANGE, ADD_LIQUIDITY_EVENT, REMOVE_LIQUIDITY_EVENT)

ERRORS: Final = (
    ErrorSpec("BadCoins", ("uint256",), ("n",)),
    ErrorSpec("BadDecimals", ("address", "uint256"), ("coin", "decimals")),
    ErrorSpec("BadParameter", ("string", "uint256"), ("name", "value")),
    ErrorSpec("BadIndex", ("int128",), ("index",)),
    ErrorSpec("NoCoin", ("uint256",), ("index",)),
    ErrorSpec("SameCoin", ("int128",), ("index",)),
    ErrorSpec("Slippage", ("uint256", "uint256"), ("amount", "min")),
    ErrorSpec("WrongLength", ("uint256", "uint256"), ("got", "want")),
    ErrorSpec("EmptyDeposit", ("uint256",), ("index",)),
    ErrorSpec("InvariantNotIncreased", ("uint256", "uint256"), ("d0", "d1")),
    ErrorSpec("Reentered"),
    ErrorSpec("NotOwner", ("address",), ("caller",)),
    ErrorSpec("TransferFailed", ("address", "bytes"), ("token", "reason")),
)


def exchange_calldata(i: int, j: int, dx: int, min_dy: int) -> bytes:
    """``exchange(i, j, dx, min_dy)``: sell ``dx`` of coin i (approved to the pool) for at least ``min_dy`` of j."""
    if i == j or not (0 <= i < 4 and 0 <= j < 4):
        raise InvalidInput("i/j", f"coin indices {i} and {j}", "two different indices in 0..3")
    return EXCHANGE.encode(i, j, dx, min_dy)


def get_dy_calldata(i: int, j: int, dx: int) -> bytes:
    return GET_DY.encode(i, j, dx)


def add_liquidity_calldata(amounts: Sequence[int], min_mint: int) -> bytes:
    return ADD_LIQUIDITY.encode(list(amounts), min_mint)


def remove_liquidity_calldata(amount: int, min_amounts: Sequence[int]) -> bytes:
    return REMOVE_LIQUIDITY.encode(amount, list(min_amounts))


def decode_revert(data: bytes) -> ContractError | None:
    return decode_error(data, ERRORS)


@dataclass(frozen=True, slots=True)
class StableSwapState:
    """What a snapshot needs of a pool, at one block: coins, their balances and decimals, A, fee."""

    address: ChecksumAddress
    coins: tuple[ChecksumAddress, ...]
    balances: tuple[int, ...]
    decimals: tuple[int, ...]
    amp: int
    fee: int
    admin_fee: int

    def venue(self, pool_id: str, location: str, assets: Sequence[AssetId], gas: int) -> StableSwapPool:
        """The router's venue for this state; ``assets`` name the coins in pool order."""
        if len(assets) != len(self.coins):
            raise InvalidInput("assets", f"{len(assets)} assets for {len(self.coins)} coins", "one per coin")
        return StableSwapPool(
            pool_id, location, self.address, tuple(assets), self.balances, self.amp, self.fee, gas, self.decimals
        )


def _call(w3: Web3, to: ChecksumAddress, fn: Function, *args: Any, block: BlockIdentifier) -> tuple[Any, ...]:
    return fn.decode(bytes(w3.eth.call({"to": to, "data": fn.encode(*args)}, block)))


def read_state(w3: Web3, address: str, block: BlockIdentifier = "latest") -> StableSwapState:
    """The pool's state at ``block`` through plain ``eth_call``s (decimals from ``stored_rates``: 10^(36-d))."""
    pool = Web3.to_checksum_address(address)
    n = int(_call(w3, pool, N_COINS, block=block)[0])
    coins = tuple(_call(w3, pool, COINS, k, block=block)[0] for k in range(n))
    balances = tuple(int(_call(w3, pool, BALANCES, k, block=block)[0]) for k in range(n))
    rates = _call(w3, pool, STORED_RATES, block=block)[0]
    decimals = tuple(36 - (len(str(int(r))) - 1) for r in rates)
    amp = int(_call(w3, pool, A, block=block)[0])
    fee = int(_call(w3, pool, FEE, block=block)[0])
    admin_fee = int(_call(w3, pool, ADMIN_FEE, block=block)[0])
    return StableSwapState(pool, coins, balances, decimals, amp, fee, admin_fee)
