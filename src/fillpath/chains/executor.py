"""FillpathExecutor from Python: typed legs → calldata, exact simulation with ``eth_call``, the transaction.

The executor (``contracts/src/FillpathExecutor.sol``) runs every leg of one plan on one chain in one
transaction. This module knows its ABI by signature (checked against the forge artifact in the tests), so it
needs no build output at run time. Amounts are exact ints in base units; ETH is the zero address.

A leg spends either an exact amount or ``ALL``: everything of its input token the executor holds when the leg
runs, i.e. what earlier legs produced. The tokens the caller must approve (``ExecPlan.pulls``) are derived
from the legs: every exact amount of a token that no earlier leg produces. Approve exactly those.

Leg kinds: Uniswap V2 and V3, WETH wrap/unwrap, a Curve-style StableSwap pool (``ExecLeg.stableswap``: exact
approval to the pool, which must be back to zero afterwards) and external calldata such as an aggregator's quote
(``ExecLeg.external``: exact approval to the quote's allowance target, reset to zero after; output measured on the
executor's own balance). A plan with a CALL leg is sent as ``executeWithCalls`` (the calldata of each CALL leg
travels in a separate ``calls`` array, so plans without one keep ``execute``'s encoding byte for byte).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from eth_abi.abi import decode, encode
from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from fillpath.model.errors import InvalidInput, Rejected

if TYPE_CHECKING:  # web3 only in the signatures of the helpers that take a Web3 (tests and the lab): the engine
    from web3 import Web3  # speaks JSON-RPC through chains/rpc.py, and loading web3 costs most of a second
    from web3.types import BlockIdentifier, TxParams, Wei

NATIVE: Final = ChecksumAddress(HexAddress(HexStr("0x" + "00" * 20)))
ALL: Final = "all"
UINT256_MAX: Final = 2**256 - 1
_ALL_WORD: Final = UINT256_MAX  # how the contract spells ALL

AmountIn = int | Literal["all"]


class LegKind(IntEnum):
    UNISWAP_V2 = 0
    UNISWAP_V3 = 1
    WRAP = 2  # ETH → WETH
    UNWRAP = 3  # WETH → ETH
    STABLESWAP = 4  # Curve-style exchange(i, j, dx, 0); the leg's fee word carries i << 8 | j
    CALL = 5  # external calldata; the leg's fee word is the index of its Call


_PULL = "(address,uint256)"
_LEG = "(uint8,uint24,address,address,address,uint256,uint256)"
_CALL = "(address,uint256,bytes)"
EXECUTE_SIGNATURE: Final = f"execute({_PULL}[],{_LEG}[],address,uint256,address,uint256)"
_EXECUTE_TYPES: Final = [f"{_PULL}[]", f"{_LEG}[]", "address", "uint256", "address", "uint256"]
EXECUTE_SELECTOR: Final = keccak(text=EXECUTE_SIGNATURE)[:4]
EXECUTE_WITH_CALLS_SIGNATURE: Final = f"executeWithCalls({_PULL}[],{_LEG}[],{_CALL}[],address,uint256,address,uint256)"
_EXECUTE_WITH_CALLS_TYPES: Final = [f"{_PULL}[]", f"{_LEG}[]", f"{_CALL}[]", *_EXECUTE_TYPES[2:]]
EXECUTE_WITH_CALLS_SELECTOR: Final = keccak(text=EXECUTE_WITH_CALLS_SIGNATURE)[:4]

# The contract's custom errors (name, argument types, argument names), plus Solidity's built-in two.
ERRORS: Final[tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]] = (
    ("DeadlinePassed", ("uint256", "uint256"), ("deadline", "timestamp")),
    ("LegMinOut", ("uint256", "uint256", "uint256"), ("index", "got", "min")),
    ("NoOutput", ("uint256",), ("index",)),
    ("TotalMinOut", ("uint256", "uint256"), ("got", "min")),
    ("BadCallback", ("address",), ("caller",)),
    ("BadPool", ("uint256", "address"), ("index", "pool")),
    ("BadLeg", ("uint256",), ("index",)),
    ("ZeroInput", ("uint256",), ("index",)),
    ("InputIsOutput", ("address",), ("token",)),
    ("BadRecipient", ("address",), ("recipient",)),
    ("Reentered", (), ()),
    ("TransferFailed", ("address", "bytes"), ("token", "reason")),
    ("NativeTransferFailed", ("address",), ("to",)),
    ("UnexpectedEther", ("address",), ("from",)),
    ("Leftover", ("address", "uint256"), ("token", "amount")),
    ("BadTarget", ("uint256", "address"), ("index", "target")),
    ("BadSpender", ("uint256", "address"), ("index", "spender")),
    ("CallFailed", ("uint256", "bytes"), ("index", "reason")),
    ("AllowanceLeft", ("uint256", "address", "uint256"), ("index", "spender", "amount")),
    ("InputUnspent", ("uint256", "uint256", "uint256"), ("index", "unspent", "maxUnspent")),
    ("Overspent", ("uint256", "uint256", "uint256"), ("index", "spent", "amountIn")),
    ("Error", ("string",), ("message",)),
    ("Panic", ("uint256",), ("code",)),
)
V3_POOL_INIT_CODE_HASH: Final = bytes.fromhex("e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54")
_BY_SELECTOR: Final = {keccak(text=f"{n}({','.join(t)})")[:4]: (n, t, a) for n, t, a in ERRORS}


def _address(value: str, where: str) -> ChecksumAddress:
    checksummed = _checksummed(value) if isinstance(value, str) else _checksummed.__wrapped__(value)
    if checksummed is None:
        raise InvalidInput(where, f"{value!r} is not an address", "give a 0x-prefixed 20-byte hex address")
    return checksummed


@lru_cache(maxsize=4096)  # ~0.5 ms a plan uncached: every leg names its tokens and pool again
def _checksummed(value: str) -> ChecksumAddress | None:
    return to_checksum_address(value) if is_address(value) else None


def _uint(value: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT256_MAX:
        raise InvalidInput(where, f"{value!r} is not a uint256", "amounts are exact integers in base units")
    return value


def v3_pool_address(factory: str, token_a: str, token_b: str, fee_ppm: int) -> ChecksumAddress:
    """Where the V3 factory deploys the (token_a, token_b, fee) pool: the only pool the executor accepts."""
    a, b = sorted((_address(token_a, "token_a"), _address(token_b, "token_b")), key=lambda x: int(x, 16))
    salt = keccak(encode(["address", "address", "uint24"], [a, b, fee_ppm]))
    raw = keccak(b"\xff" + bytes.fromhex(_address(factory, "factory")[2:]) + salt + V3_POOL_INIT_CODE_HASH)
    return to_checksum_address(raw[12:])


@dataclass(frozen=True, slots=True)
class ExecCall:
    """What a CALL leg runs: ``data`` sent to the leg's target after approving ``spender`` exactly the leg's input
    (no spender, i.e. ``NATIVE``, when the input is ETH: it goes as the call's value). ``max_unspent`` is how much
    of the input the call may leave unspent (it goes back to the sender with everything else)."""

    spender: ChecksumAddress
    data: bytes
    max_unspent: int = 0

    def __post_init__(self) -> None:
        _uint(self.max_unspent, "max_unspent")
        if not isinstance(self.data, bytes):
            raise InvalidInput("data", "calldata must be bytes", "give the quote's transaction data as bytes")

    def encoded(self) -> tuple[str, int, bytes]:
        return (self.spender, self.max_unspent, self.data)


@dataclass(frozen=True, slots=True)
class ExecLeg:
    """One step of a plan as the executor runs it. Build with ``v2``, ``v3``, ``wrap``, ``unwrap``,
    ``stableswap`` or ``external`` (a CALL leg)."""

    kind: LegKind
    token_in: ChecksumAddress
    token_out: ChecksumAddress
    amount_in: AmountIn
    min_out: int
    pool: ChecksumAddress = NATIVE  # V2 pair, V3 pool, StableSwap pool, or a CALL leg's target
    fee_ppm: int = 0  # V2: the pair's fee on the input (3000 = 0.3%); V3: the pool's fee tier
    coin_in: int = 0  # StableSwap: the pool's index of token_in
    coin_out: int = 0  # StableSwap: the pool's index of token_out
    call: ExecCall | None = None  # CALL only

    def __post_init__(self) -> None:
        if self.amount_in != ALL:
            _uint(self.amount_in, "amount_in")
            if self.amount_in == 0 or self.amount_in == _ALL_WORD:
                raise InvalidInput("amount_in", f"{self.amount_in} cannot be spent", "give 1 ≤ amount < 2**256-1")
        _uint(self.min_out, "min_out")
        if not 0 <= self.fee_ppm < 1_000_000:
            raise InvalidInput("fee_ppm", f"{self.fee_ppm} is not a fee in parts per million", "e.g. 3000 = 0.3%")
        if self.token_in == self.token_out:
            raise InvalidInput("token_out", "a leg must change the asset", "give different token_in and token_out")
        if (self.call is not None) != (self.kind == LegKind.CALL):
            raise InvalidInput("call", "a CALL leg, and only a CALL leg, carries a call")
        if (self.coin_in or self.coin_out) and self.kind != LegKind.STABLESWAP:
            raise InvalidInput("coin_in", "coin indices belong to StableSwap legs")
        if self.kind in (LegKind.UNISWAP_V2, LegKind.UNISWAP_V3, LegKind.STABLESWAP):
            if NATIVE in (self.token_in, self.token_out, self.pool):
                raise InvalidInput("pool", "a swap leg needs a pool and two tokens", "use wrap/unwrap for ETH")
            if self.kind == LegKind.STABLESWAP:
                self._check_stableswap()
        elif self.kind == LegKind.CALL:
            self._check_call()
        elif (self.kind == LegKind.WRAP) != (self.token_in == NATIVE) or NATIVE not in (self.token_in, self.token_out):
            raise InvalidInput("kind", "wrap is ETH → WETH and unwrap WETH → ETH")

    def _check_stableswap(self) -> None:
        if self.coin_in == self.coin_out or not (0 <= self.coin_in < 256 and 0 <= self.coin_out < 256):
            raise InvalidInput("coin_in", f"coin indices {self.coin_in} and {self.coin_out}", "two different indices")
        if self.fee_ppm:
            raise InvalidInput("fee_ppm", "a StableSwap pool takes its own fee", "leave fee_ppm at 0")

    def _check_call(self) -> None:
        assert self.call is not None
        if self.pool == NATIVE:
            raise InvalidInput("pool", "a CALL leg needs a target contract")
        if self.fee_ppm:
            raise InvalidInput("fee_ppm", "a CALL leg has no fee of its own", "leave fee_ppm at 0")
        if (self.token_in == NATIVE) != (self.call.spender == NATIVE):
            raise InvalidInput(
                "call.spender", "an ETH input goes as value (no spender); a token input needs its allowance target"
            )

    @classmethod
    def v2(
        cls, pair: str, token_in: str, token_out: str, amount_in: AmountIn, min_out: int, fee_ppm: int = 3000
    ) -> ExecLeg:
        return cls(
            LegKind.UNISWAP_V2,
            _address(token_in, "token_in"),
            _address(token_out, "token_out"),
            amount_in,
            min_out,
            _address(pair, "pool"),
            fee_ppm,
        )

    @classmethod
    def v3(cls, pool: str, token_in: str, token_out: str, fee_ppm: int, amount_in: AmountIn, min_out: int) -> ExecLeg:
        return cls(
            LegKind.UNISWAP_V3,
            _address(token_in, "token_in"),
            _address(token_out, "token_out"),
            amount_in,
            min_out,
            _address(pool, "pool"),
            fee_ppm,
        )

    @classmethod
    def wrap(cls, weth: str, amount_in: AmountIn) -> ExecLeg:
        """ETH → WETH at 1:1 (so min_out is the amount itself when exact)."""
        return cls(LegKind.WRAP, NATIVE, _address(weth, "weth"), amount_in, 0 if amount_in == ALL else amount_in)

    @classmethod
    def unwrap(cls, weth: str, amount_in: AmountIn) -> ExecLeg:
        return cls(LegKind.UNWRAP, _address(weth, "weth"), NATIVE, amount_in, 0 if amount_in == ALL else amount_in)

    @classmethod
    def stableswap(
        cls, pool: str, token_in: str, token_out: str, i: int, j: int, amount_in: AmountIn, min_out: int
    ) -> ExecLeg:
        """``exchange(i, j, amount, 0)`` on a Curve-style pool whose coins i and j are token_in and token_out
        (the executor checks ``coins(i)``/``coins(j)``); the leg's min_out is checked on what arrived."""
        return cls(
            LegKind.STABLESWAP,
            _address(token_in, "token_in"),
            _address(token_out, "token_out"),
            amount_in,
            min_out,
            _address(pool, "pool"),
            coin_in=i,
            coin_out=j,
        )

    @classmethod
    def external(
        cls,
        target: str,
        token_in: str,
        token_out: str,
        amount_in: AmountIn,
        min_out: int,
        data: bytes,
        spender: str | None,
        max_unspent: int = 0,
    ) -> ExecLeg:
        """A CALL leg: ``data`` sent to ``target`` (e.g. an aggregator quote's ``transaction.to``/``data``, with
        ``spender`` its allowance target; None for an ETH input, sent as value). ``min_out`` is checked by the
        executor on its own balance of token_out, whatever the calldata promises."""
        return cls(
            LegKind.CALL,
            _address(token_in, "token_in"),
            _address(token_out, "token_out"),
            amount_in,
            min_out,
            _address(target, "target"),
            call=ExecCall(NATIVE if spender is None else _address(spender, "spender"), data, max_unspent),
        )

    def encoded(self, call_index: int = 0) -> tuple[int, int, str, str, str, int, int]:
        """The ``Leg`` tuple; a CALL leg's fee word is ``call_index``, its position in the plan's calls."""
        amount = _ALL_WORD if self.amount_in == ALL else self.amount_in
        assert isinstance(amount, int)
        if self.kind == LegKind.STABLESWAP:
            fee = (self.coin_in << 8) | self.coin_out
        elif self.kind == LegKind.CALL:
            fee = call_index
        else:
            fee = self.fee_ppm
        return (int(self.kind), fee, self.pool, self.token_in, self.token_out, amount, self.min_out)


@dataclass(frozen=True, slots=True)
class Pull:
    """A token the executor takes from the sender: approve exactly ``amount`` to the executor first."""

    token: ChecksumAddress
    amount: int


@dataclass(frozen=True, slots=True)
class ExecPlan:
    """Legs in execution order, what reaches ``recipient`` (``token_out``, at least ``min_total_out``) and the
    last block timestamp at which it may run. ``pulls`` and ``value`` (ETH sent) are derived from the legs."""

    legs: tuple[ExecLeg, ...]
    token_out: ChecksumAddress
    min_total_out: int
    recipient: ChecksumAddress
    deadline: int
    pulls: tuple[Pull, ...] = field(init=False)
    value: int = field(init=False)
    calls: tuple[ExecCall, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.legs:
            raise InvalidInput("legs", "a plan needs at least one leg")
        _uint(self.min_total_out, "min_total_out")
        _uint(self.deadline, "deadline")
        if self.recipient == NATIVE:
            raise InvalidInput("recipient", "the zero address cannot receive", "give the account that should")
        pulls, value = _inputs(self.legs, self.token_out)
        _check_call_targets(self.legs, pulls)
        object.__setattr__(self, "pulls", pulls)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "calls", tuple(leg.call for leg in self.legs if leg.call is not None))

    @classmethod
    def build(
        cls, legs: Sequence[ExecLeg], token_out: str, min_total_out: int, recipient: str, deadline: int
    ) -> ExecPlan:
        return cls(
            tuple(legs),
            _address(token_out, "token_out"),
            min_total_out,
            _address(recipient, "recipient"),
            deadline,
        )

    def calldata(self) -> bytes:
        """``execute`` for a plan without CALL legs, ``executeWithCalls`` for one with them."""
        pulls = [(p.token, p.amount) for p in self.pulls]
        if not self.calls:
            legs = [leg.encoded() for leg in self.legs]
            return EXECUTE_SELECTOR + encode_execute_args(
                pulls, legs, self.token_out, self.min_total_out, self.recipient, self.deadline
            )
        encoded, k = [], 0
        for leg in self.legs:
            encoded.append(leg.encoded(k))
            k += leg.kind == LegKind.CALL
        args = [pulls, encoded, [c.encoded() for c in self.calls], self.token_out, self.min_total_out,
                self.recipient, self.deadline]  # fmt: skip
        return EXECUTE_WITH_CALLS_SELECTOR + encode(_EXECUTE_WITH_CALLS_TYPES, args)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def encode_execute_args(
    pulls: Sequence[tuple[str, int]],
    legs: Sequence[tuple[int, int, str, str, str, int, int]],
    token_out: str,
    min_total_out: int,
    recipient: str,
    deadline: int,
) -> bytes:
    """``execute``'s arguments ABI-encoded, as ``eth_abi.encode(_EXECUTE_TYPES, ...)`` encodes them (a property test
    holds the two equal) in a tenth of the time: both arrays hold static tuples, so the layout is fixed. The values
    were range-checked when the legs and the plan were built."""
    head_size = 6 * 32
    pulls_size = 32 + 64 * len(pulls)
    out = [_word(head_size), _word(head_size + pulls_size), _address_word(token_out), _word(min_total_out),
           _address_word(recipient), _word(deadline), _word(len(pulls))]  # fmt: skip
    for token, amount in pulls:
        out += (_address_word(token), _word(amount))
    out.append(_word(len(legs)))
    for kind, fee, pool, token_in, token_out_, amount_in, min_out in legs:
        out += (_word(kind), _word(fee), _address_word(pool), _address_word(token_in), _address_word(token_out_),
                _word(amount_in), _word(min_out))  # fmt: skip
    return b"".join(out)


def _inputs(legs: Sequence[ExecLeg], token_out: str) -> tuple[tuple[Pull, ...], int]:
    """What the sender supplies: each exact amount of a token that no earlier leg has produced."""
    produced: set[str] = set()
    pulls: dict[ChecksumAddress, int] = {}
    value = 0
    for i, leg in enumerate(legs):
        if leg.token_in not in produced:
            if leg.amount_in == ALL:
                raise InvalidInput(
                    f"legs[{i}].amount_in",
                    "'all' of a token that no earlier leg produces",
                    "give the exact amount taken from the sender",
                )
            assert isinstance(leg.amount_in, int)
            if leg.token_in == token_out:
                raise InvalidInput(f"legs[{i}].token_in", "the plan's output token is also an input")
            if leg.token_in == NATIVE:
                value += leg.amount_in
            else:
                pulls[leg.token_in] = pulls.get(leg.token_in, 0) + leg.amount_in
        produced.add(leg.token_out)
    if token_out not in produced:
        raise InvalidInput("token_out", "no leg produces it")
    return tuple(Pull(t, a) for t, a in pulls.items()), value


def _check_call_targets(legs: Sequence[ExecLeg], pulls: Sequence[Pull]) -> None:
    """What the contract refuses with ``BadTarget`` and can be known without the chain: a CALL leg's target may
    not be a token of the plan (called by the executor, a token would move the executor's balance, i.e. the
    other legs' funds) nor a pool another leg names. (WETH, the executor itself and genuine V3 pools are refused
    on chain too.)"""
    tokens = {p.token for p in pulls} | {t for leg in legs for t in (leg.token_in, leg.token_out)}
    pools = {leg.pool for leg in legs if leg.kind not in (LegKind.CALL, LegKind.WRAP, LegKind.UNWRAP)}
    for i, leg in enumerate(legs):
        if leg.kind == LegKind.CALL and (leg.pool in tokens or leg.pool in pools):
            raise InvalidInput(
                f"legs[{i}].pool", f"{leg.pool} is a token or a pool of this plan", "a CALL targets an aggregator"
            )


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What ``execute`` returned: each leg's output in leg order and what reached the recipient."""

    amounts_out: tuple[int, ...]
    total_out: int


@dataclass(frozen=True, slots=True)
class ExecutorError:
    """A decoded revert: the contract's custom error (or Error/Panic) with its named arguments."""

    name: str
    args: tuple[tuple[str, Any], ...]

    def arg(self, name: str) -> Any:
        return dict(self.args)[name]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.args)})"


class ExecutionReverted(Rejected):
    """The chain refused the plan; ``error`` says why when the revert data could be decoded."""

    def __init__(self, error: ExecutorError | None, data: bytes) -> None:
        reason = str(error) if error else f"undecoded revert data 0x{data.hex()}"
        super().__init__(f"executor reverted: {reason}", reason=reason)
        self.error = error
        self.data = data


def decode_error(data: bytes) -> ExecutorError | None:
    spec = _BY_SELECTOR.get(data[:4])
    if spec is None:
        return None
    name, types, names = spec
    try:
        values = decode(list(types), data[4:])
    except Exception:
        return None
    values = tuple(to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True))
    return ExecutorError(name, tuple(zip(names, values, strict=True)))


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data behind a failed call, from web3's exception (HTTP nodes such as anvil) or from
    eth-tester's in-process provider, which reports it as the text ``execution reverted: b'...'``."""
    exceptions = sys.modules.get("web3.exceptions")  # an exception from web3 means web3 is loaded
    if exceptions is not None and isinstance(exc, exceptions.ContractLogicError):
        data: Any = exc.data
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str):
            data = data.removeprefix("Reverted ")
            if data.startswith("0x"):
                return bytes.fromhex(data[2:])
        return None
    text = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    if type(exc).__name__ == "TransactionFailed" and text.startswith(prefix + "b"):
        try:
            raw = ast.literal_eval(text[len(prefix) :])
        except (ValueError, SyntaxError):
            return None
        return raw if isinstance(raw, bytes) else None
    return None


def build_tx(executor: str, plan: ExecPlan, sender: str) -> TxParams:
    """The call as a transaction (without nonce, gas or fees: the transaction layer adds those)."""
    tx: TxParams = {
        "from": _address(sender, "sender"),
        "to": _address(executor, "executor"),
        "data": plan.calldata(),
    }
    if plan.value:
        tx["value"] = cast("Wei", plan.value)
    return tx


def decode_result(output: bytes) -> ExecResult:
    amounts, total = decode(["uint256[]", "uint256"], output)
    return ExecResult(tuple(int(a) for a in amounts), int(total))


def simulate(w3: Web3, executor: str, plan: ExecPlan, sender: str, block: BlockIdentifier = "latest") -> ExecResult:
    """Run the plan with ``eth_call``: the exact outputs it would have at ``block``, or ``ExecutionReverted``
    naming why not. The sender's approvals (``plan.pulls``) must already be in place at that block."""
    try:
        output = w3.eth.call(build_tx(executor, plan, sender), block)
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        raise ExecutionReverted(decode_error(data), data) from exc
    return decode_result(bytes(output))
