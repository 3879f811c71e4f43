"""LabAggregator and LabAllowanceHolder (``contracts/src/LabAggregator.sol``, ``LabAllowanceHolder.sol``) from
Python: routes as hops, the 0x-v2-shaped transaction a quote hands out, and fault injection.

A quote's transaction is ``LabAllowanceHolder.exec(aggregator, sellToken, sellAmount, aggregator,
LabAggregator.swap(...))`` sent to the holder, which is also the quote's allowance target (the 0x v2
AllowanceHolder flow): the taker approves the holder exactly ``sellAmount`` and sends ``Transaction``. A lying
quote is the same transaction with a ``Skim`` (output taken to another address before ``minBuyAmount``) and a
``buyAmount`` that does not mention it; the taker's own balance check is what catches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils.address import to_checksum_address

from fillpath.lab.contracts.abi import ContractError, ErrorSpec, Event, Function, Param, decode_error
from fillpath.model.errors import InvalidInput

BPS: Final = 10_000
ZERO_ADDRESS: Final = ChecksumAddress(HexAddress(HexStr("0x" + "00" * 20)))
HOP: Final = "(uint8,uint24,uint16,address,address,address)"
SKIM: Final = "(address,uint16,uint256)"

SWAP: Final = Function("swap", ("address", "uint256", "address", "uint256", "address", f"{HOP}[]", SKIM), ("uint256",))
EXEC: Final = Function("exec", ("address", "address", "uint256", "address", "bytes"), ("bytes",))
HOLDER_TRANSFER_FROM: Final = Function("transferFrom", ("address", "address", "address", "uint256"), ("bool",))
AGGREGATOR_FUNCTIONS: Final = (SWAP,)
HOLDER_FUNCTIONS: Final = (EXEC, HOLDER_TRANSFER_FROM)

SWAPPED: Final = Event(
    "Swapped",
    (
        Param("taker", "address", indexed=True),
        Param("recipient", "address", indexed=True),
        Param("sellToken", "address"),
        Param("buyToken", "address"),
        Param("sellAmount", "uint256"),
        Param("buyAmount", "uint256"),
        Param("skimRecipient", "address"),
        Param("skimmed", "uint256"),
    ),
)
AGGREGATOR_EVENTS: Final = (SWAPPED,)

AGGREGATOR_ERRORS: Final = (
    ErrorSpec("TooMuchSlippage", ("address", "uint256", "uint256"), ("buyToken", "minBuyAmount", "buyAmount")),
    ErrorSpec("BadHop", ("uint256",), ("index",)),
    ErrorSpec("NoRoute"),
    ErrorSpec("BadRecipient", ("address",), ("recipient",)),
    ErrorSpec("SkimTooLarge", ("uint256", "uint256"), ("skim", "out")),
    ErrorSpec("BadCallback", ("address",), ("caller",)),
    ErrorSpec("Reentered"),
    ErrorSpec("TransferFailed", ("address", "bytes"), ("token", "reason")),
)
HOLDER_ERRORS: Final = (
    ErrorSpec("ConfusedDeputy", ("address",), ("target",)),
    ErrorSpec(
        "AllowanceExceeded",
        ("address", "address", "address", "uint256", "uint256"),
        ("operator", "owner", "token", "allowed", "amount"),
    ),
    ErrorSpec("TransferFailed", ("address", "bytes"), ("token", "reason")),
)


class HopKind(IntEnum):
    UNISWAP_V2 = 0
    UNISWAP_V3 = 1
    STABLESWAP = 2


def _addr(value: str, where: str) -> ChecksumAddress:
    try:
        return to_checksum_address(value)
    except (TypeError, ValueError):
        raise InvalidInput(where, f"{value!r} is not an address", "give a 0x-prefixed 20-byte hex address") from None


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a route: spends ``bps`` (of 10,000) of what the aggregator holds of ``token_in`` when it
    runs. ``fee``: V2 the pair's fee in ppm, V3 unused, StableSwap the coin indices ``i << 8 | j``."""

    kind: HopKind
    pool: ChecksumAddress
    token_in: ChecksumAddress
    token_out: ChecksumAddress
    bps: int = BPS
    fee: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.bps <= BPS:
            raise InvalidInput("bps", f"{self.bps} is not a share of the input", "1..10000 (10000 = all)")
        if not 0 <= self.fee < 2**24:
            raise InvalidInput("fee", f"{self.fee} does not fit uint24")
        if self.token_in == self.token_out:
            raise InvalidInput("token_out", "a hop must change the asset")

    @classmethod
    def v2(cls, pair: str, token_in: str, token_out: str, bps: int = BPS, fee_ppm: int = 3000) -> Hop:
        return cls(HopKind.UNISWAP_V2, *_addrs(pair, token_in, token_out), bps, fee_ppm)

    @classmethod
    def v3(cls, pool: str, token_in: str, token_out: str, bps: int = BPS) -> Hop:
        return cls(HopKind.UNISWAP_V3, *_addrs(pool, token_in, token_out), bps)

    @classmethod
    def stableswap(cls, pool: str, token_in: str, token_out: str, i: int, j: int, bps: int = BPS) -> Hop:
        if i == j or not (0 <= i < 256 and 0 <= j < 256):
            raise InvalidInput("i/j", f"coin indices {i} and {j}", "two different indices")
        return cls(HopKind.STABLESWAP, *_addrs(pool, token_in, token_out), bps, (i << 8) | j)

    def encoded(self) -> tuple[int, int, int, str, str, str]:
        return (int(self.kind), self.fee, self.bps, self.pool, self.token_in, self.token_out)


def _addrs(pool: str, token_in: str, token_out: str) -> tuple[ChecksumAddress, ChecksumAddress, ChecksumAddress]:
    return _addr(pool, "pool"), _addr(token_in, "token_in"), _addr(token_out, "token_out")


@dataclass(frozen=True, slots=True)
class Skim:
    """Output taken before ``minBuyAmount`` is checked: ``bps`` of it plus ``amount``, to ``recipient``."""

    recipient: ChecksumAddress = ZERO_ADDRESS
    bps: int = 0
    amount: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.bps <= BPS or self.amount < 0:
            raise InvalidInput("skim", f"bps {self.bps}, amount {self.amount}", "bps in 0..10000, amount >= 0")
        if (self.bps or self.amount) and self.recipient == ZERO_ADDRESS:
            raise InvalidInput("skim.recipient", "a skim needs somewhere to go")

    def encoded(self) -> tuple[str, int, int]:
        return (self.recipient, self.bps, self.amount)


NO_SKIM: Final = Skim()


@dataclass(frozen=True, slots=True)
class SwapCall:
    """``LabAggregator.swap``'s arguments."""

    sell_token: ChecksumAddress
    sell_amount: int
    buy_token: ChecksumAddress
    min_buy_amount: int
    recipient: ChecksumAddress
    hops: tuple[Hop, ...]
    skim: Skim = NO_SKIM

    def __post_init__(self) -> None:
        if not self.hops:
            raise InvalidInput("hops", "a route needs at least one hop")
        if self.sell_amount <= 0 or self.min_buy_amount < 0:
            raise InvalidInput("sell_amount", "sell a positive amount for a non-negative minimum")
        if self.hops[0].token_in != self.sell_token:
            raise InvalidInput("hops[0].token_in", "the first hop must sell the sell token")

    def calldata(self) -> bytes:
        hops = [h.encoded() for h in self.hops]
        return SWAP.encode(
            self.sell_token, self.sell_amount, self.buy_token, self.min_buy_amount, self.recipient, hops,
            self.skim.encoded(),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Transaction:
    """A quote's ``transaction`` (0x v2 shape): send ``data`` to ``to`` with ``value``; approve exactly
    ``sell_amount`` of the sell token to ``allowance_target`` first."""

    to: ChecksumAddress
    data: bytes
    value: int
    allowance_target: ChecksumAddress


def holder_transaction(holder: str, aggregator: str, swap: SwapCall) -> Transaction:
    """The AllowanceHolder flow: ``holder.exec(aggregator, sellToken, sellAmount, aggregator, swap)``."""
    holder_, aggregator_ = _addr(holder, "holder"), _addr(aggregator, "aggregator")
    data = EXEC.encode(aggregator_, swap.sell_token, swap.sell_amount, aggregator_, swap.calldata())
    return Transaction(holder_, data, 0, holder_)


def direct_transaction(aggregator: str, swap: SwapCall) -> Transaction:
    """Called directly, the aggregator itself is the allowance target."""
    aggregator_ = _addr(aggregator, "aggregator")
    return Transaction(aggregator_, swap.calldata(), 0, aggregator_)


def decode_exec_result(output: bytes) -> int:
    """What ``exec`` returned: the bytes of ``swap``'s result, i.e. the buy amount paid."""
    (inner,) = EXEC.decode(output)
    return int(SWAP.decode(bytes(inner))[0])


@dataclass(frozen=True, slots=True)
class Swapped:
    """A ``Swapped`` log."""

    taker: ChecksumAddress
    recipient: ChecksumAddress
    sell_token: ChecksumAddress
    buy_token: ChecksumAddress
    sell_amount: int
    buy_amount: int
    skim_recipient: ChecksumAddress
    skimmed: int


def decode_swapped(log: Any) -> Swapped | None:
    v = SWAPPED.decode_log(log)
    return None if v is None else Swapped(*v.values())


def decode_revert(data: bytes) -> ContractError | None:
    """The aggregator's or the holder's error (the holder passes the aggregator's revert through as is)."""
    return decode_error(data, (*AGGREGATOR_ERRORS, *HOLDER_ERRORS[:2]))
