"""An Across-V3-style intent bridge's spoke pool, by signature: the deposit we send, the relay it creates, and the
evidence that it was filled (on the destination) or refunded (on the origin).

Known by signature, not from a build (like ``chains/executor.py``); ``tests/contracts`` holds every signature
equal to the lab's ``LabSpokePool`` artifact. The deposit, the relay hash and ``fillStatuses`` are Across V3's.
The lab's fill event omits Across's ``relayExecutionInfo`` (no speed-ups), and Across refunds an expired deposit
through its HubPool's root bundles while the lab's settler calls ``refund`` (``DepositRefunded``) and keeps a
``deposits(id)`` view: the two pieces to swap for a real Across deployment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final, TypeVar

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fillpath.model.errors import InvalidInput

RELAY_DATA: Final = "(address,address,address,address,address,uint256,uint256,uint256,uint32,uint32,uint32,bytes)"
ZERO: Final = "0x" + "00" * 20
UINT32_MAX: Final = 2**32 - 1

DEPOSIT_V3_SIG: Final = (
    "depositV3(address,address,address,address,uint256,uint256,uint256,address,uint32,uint32,uint32,bytes)"
)
FILL_STATUSES_SIG: Final = "fillStatuses(bytes32)"
DEPOSITS_SIG: Final = "deposits(uint32)"
FUNDS_DEPOSITED_SIG: Final = (
    "V3FundsDeposited(address,address,uint256,uint256,uint256,uint32,uint32,uint32,uint32,address,address,"
    "address,bytes)"
)
FILLED_SIG: Final = (
    "FilledV3Relay(address,address,uint256,uint256,uint256,uint256,uint32,uint32,uint32,address,address,address,"
    "address,bytes)"
)
REFUNDED_SIG: Final = "DepositRefunded(uint32,address,address,uint256,bytes32,address)"
ERRORS: Final = (
    "DisabledRoute(address,uint256)", "InvalidQuoteTimestamp(uint32,uint256)", "InvalidFillDeadline(uint32,uint256)",
    "InvalidExclusiveRelayer()", "TransferFailed(address,bytes)", "Reentered()",
)  # fmt: skip


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


FUNDS_DEPOSITED: Final = _topic(FUNDS_DEPOSITED_SIG)
FILLED: Final = _topic(FILLED_SIG)
REFUNDED: Final = _topic(REFUNDED_SIG)
ERROR_NAMES: Final = {_selector(e): e.split("(")[0] for e in ERRORS}


class FillStatus(IntEnum):
    UNFILLED = 0
    REQUESTED_SLOW_FILL = 1
    FILLED = 2


class DepositStatus(IntEnum):
    """The lab spoke pool's ``deposits(id).status`` on the origin."""

    NONE = 0
    PENDING = 1
    REPAID = 2
    REFUNDED = 3


@dataclass(frozen=True, slots=True)
class Relay:
    """Across V3's ``V3RelayData``: what a relayer fills, and what the relay hash commits to."""

    depositor: str
    recipient: str
    exclusive_relayer: str
    input_token: str
    output_token: str
    input_amount: int
    output_amount: int
    origin_chain_id: int
    deposit_id: int
    fill_deadline: int
    exclusivity_deadline: int
    message: bytes

    def encoded(self) -> tuple[Any, ...]:
        return (
            to_checksum_address(self.depositor), to_checksum_address(self.recipient),
            to_checksum_address(self.exclusive_relayer), to_checksum_address(self.input_token),
            to_checksum_address(self.output_token), self.input_amount, self.output_amount, self.origin_chain_id,
            self.deposit_id, self.fill_deadline, self.exclusivity_deadline, self.message,
        )  # fmt: skip

    def relay_hash(self, destination_chain_id: int) -> bytes:
        return keccak(encode([RELAY_DATA, "uint256"], [self.encoded(), destination_chain_id]))


@dataclass(frozen=True, slots=True)
class Deposited:
    """A ``V3FundsDeposited`` log: the deposit id and the relay to fill on ``destination_chain_id``."""

    deposit_id: int
    destination_chain_id: int
    relay: Relay


def deposit_calldata(
    *,
    depositor: str,
    recipient: str,
    input_token: str,
    output_token: str,
    input_amount: int,
    output_amount: int,
    destination_chain_id: int,
    quote_timestamp: int,
    fill_deadline: int,
) -> bytes:
    """``depositV3`` with no exclusive relayer and no message. ``output_amount`` is exactly what the recipient
    receives if the relay is filled (Across fills a relay whole or not at all)."""
    if input_amount <= 0 or output_amount <= 0:
        raise InvalidInput("input_amount", "a bridge deposit moves a positive amount")
    for name, value in (("quote_timestamp", quote_timestamp), ("fill_deadline", fill_deadline)):
        if not 0 < value <= UINT32_MAX:
            raise InvalidInput(name, f"{value} does not fit uint32 seconds")
    types = ["address", "address", "address", "address", "uint256", "uint256", "uint256", "address", "uint32",
             "uint32", "uint32", "bytes"]  # fmt: skip
    args = [to_checksum_address(depositor), to_checksum_address(recipient), to_checksum_address(input_token),
            to_checksum_address(output_token), input_amount, output_amount, destination_chain_id, ZERO,
            quote_timestamp, fill_deadline, 0, b""]  # fmt: skip
    return _selector(DEPOSIT_V3_SIG) + encode(types, args)


def fill_status_calldata(relay_hash: bytes) -> bytes:
    return _selector(FILL_STATUSES_SIG) + encode(["bytes32"], [relay_hash])


def deposits_calldata(deposit_id: int) -> bytes:
    return _selector(DEPOSITS_SIG) + encode(["uint32"], [deposit_id])


def decode_deposit_status(output: bytes) -> DepositStatus:
    values = decode(["address", "uint32", "uint8", "address", "uint256", "bytes32"], output)
    return DepositStatus(int(values[2]))


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


def _topics(log: Mapping[str, Any]) -> list[bytes]:
    return [_hex_bytes(t) for t in log["topics"]]


def _word_int(topic: bytes) -> int:
    return int.from_bytes(topic, "big")


def _word_address(topic: bytes) -> str:
    return to_checksum_address("0x" + topic[-20:].hex())


def decode_deposited(log: Mapping[str, Any], origin_chain_id: int) -> Deposited | None:
    """A ``V3FundsDeposited`` log (None for any other log)."""
    topics = _topics(log)
    if len(topics) != 4 or "0x" + topics[0].hex() != FUNDS_DEPOSITED:
        return None
    (input_token, output_token, input_amount, output_amount, _quote, deadline, excl_deadline, recipient, excl,
     message) = decode(["address", "address", "uint256", "uint256", "uint32", "uint32", "uint32", "address",
                        "address", "bytes"], _hex_bytes(log["data"]))  # fmt: skip
    deposit_id = _word_int(topics[2])
    relay = Relay(_word_address(topics[3]), recipient, excl, input_token, output_token, input_amount, output_amount,
                  origin_chain_id, deposit_id, deadline, excl_deadline, bytes(message))  # fmt: skip
    return Deposited(deposit_id, _word_int(topics[1]), relay)


@dataclass(frozen=True, slots=True)
class Fill:
    """A ``FilledV3Relay`` log on the destination: who filled, and the relay as filled."""

    relayer: str
    recipient: str
    output_token: str
    output_amount: int
    deposit_id: int
    origin_chain_id: int
    tx_hash: str


def decode_filled(log: Mapping[str, Any]) -> Fill | None:
    topics = _topics(log)
    if len(topics) != 4 or "0x" + topics[0].hex() != FILLED:
        return None
    (_in_token, out_token, _in_amount, out_amount, _repay, _deadline, _excl_deadline, _excl, _depositor, recipient,
     _message) = decode(["address", "address", "uint256", "uint256", "uint256", "uint32", "uint32", "address",
                         "address", "address", "bytes"], _hex_bytes(log["data"]))  # fmt: skip
    tx = log.get("transactionHash")
    return Fill(_word_address(topics[3]), recipient, out_token, out_amount, _word_int(topics[2]),
                _word_int(topics[1]), "0x" + _hex_bytes(tx).hex() if tx is not None else "")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Refund:
    deposit_id: int
    depositor: str
    input_token: str
    input_amount: int
    tx_hash: str


def decode_refunded(log: Mapping[str, Any]) -> Refund | None:
    topics = _topics(log)
    if len(topics) != 3 or "0x" + topics[0].hex() != REFUNDED:
        return None
    token, amount, _hash, _caller = decode(["address", "uint256", "bytes32", "address"], _hex_bytes(log["data"]))
    tx = log.get("transactionHash")
    return Refund(_word_int(topics[1]), _word_address(topics[2]), token, amount,
                  "0x" + _hex_bytes(tx).hex() if tx is not None else "")  # fmt: skip


def uint_topic(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


T = TypeVar("T")


def first(decoded: Sequence[T | None]) -> T | None:
    """The first log of the kind asked for (the others decode to None)."""
    return next((d for d in decoded if d is not None), None)
