"""LabSpokePool (``contracts/src/LabSpokePool.sol``) from Python: the lab's Across-V3-style intent bridge.

The flow, and who calls what:
- the trader (origin chain): ``deposit_calldata(Deposit(...))`` after approving ``input_amount`` to the pool;
  the receipt's ``V3FundsDeposited`` log (``decode_log``) gives the ``depositId`` and ``RelayData``;
- a relayer (destination chain): ``fill_calldata(relay)`` after approving ``output_amount`` to that chain's pool;
  ``FilledV3Relay`` says who filled; ``fillStatuses(relay_hash(relay, destination))`` is 2 once filled;
- the settler (origin chain): ``repay_calldata(deposit_id, relayer)`` after a fill, or
  ``refund_calldata(deposit_id)`` once ``fill_deadline`` has passed; anyone may refund after
  ``fill_deadline + settlementWindow``. ``deposits(id)`` (``DEPOSITS``) reads the deposit's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from eth_abi.abi import encode
from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fillpath.lab.contracts.abi import ContractError, ErrorSpec, Event, Function, Param, decode_error
from fillpath.model.errors import InvalidInput

RELAY_DATA: Final = "(address,address,address,address,address,uint256,uint256,uint256,uint32,uint32,uint32,bytes)"
CONSTRUCTOR: Final = ("address", "address", "uint32", "uint32", "uint32")
UINT32_MAX: Final = 2**32 - 1
ZERO_ADDRESS: Final = ChecksumAddress(HexAddress(HexStr("0x" + "00" * 20)))


class FillStatus(IntEnum):
    UNFILLED = 0
    REQUESTED_SLOW_FILL = 1  # Across's value; the lab never sets it
    FILLED = 2


class DepositStatus(IntEnum):
    NONE = 0
    PENDING = 1
    REPAID = 2
    REFUNDED = 3


DEPOSIT_V3: Final = Function(
    "depositV3",
    ("address", "address", "address", "address", "uint256", "uint256", "uint256", "address", "uint32", "uint32",
     "uint32", "bytes"),
)  # fmt: skip
FILL_V3_RELAY: Final = Function("fillV3Relay", (RELAY_DATA, "uint256"))
REPAY_RELAYER: Final = Function("repayRelayer", ("uint32", "address"))
REFUND: Final = Function("refund", ("uint32",))
SET_ENABLE_ROUTE: Final = Function("setEnableRoute", ("address", "uint256", "bool"))
SET_SETTLER: Final = Function("setSettler", ("address",))
DEPOSITS: Final = Function("deposits", ("uint32",), ("address", "uint32", "uint8", "address", "uint256", "bytes32"))
FILL_STATUSES: Final = Function("fillStatuses", ("bytes32",), ("uint256",))
NUMBER_OF_DEPOSITS: Final = Function("numberOfDeposits", (), ("uint32",))
ENABLED_DEPOSIT_ROUTES: Final = Function("enabledDepositRoutes", ("address", "uint256"), ("bool",))
GET_V3_RELAY_HASH: Final = Function("getV3RelayHash", (RELAY_DATA, "uint256"), ("bytes32",))
SETTLER: Final = Function("settler", (), ("address",))
SETTLEMENT_WINDOW: Final = Function("settlementWindow", (), ("uint32",))
FUNCTIONS: Final = (
    DEPOSIT_V3, FILL_V3_RELAY, REPAY_RELAYER, REFUND, SET_ENABLE_ROUTE, SET_SETTLER, DEPOSITS, FILL_STATUSES,
    NUMBER_OF_DEPOSITS, ENABLED_DEPOSIT_ROUTES, GET_V3_RELAY_HASH, SETTLER, SETTLEMENT_WINDOW,
)  # fmt: skip

V3_FUNDS_DEPOSITED: Final = Event(
    "V3FundsDeposited",
    (
        Param("inputToken", "address"),
        Param("outputToken", "address"),
        Param("inputAmount", "uint256"),
        Param("outputAmount", "uint256"),
        Param("destinationChainId", "uint256", indexed=True),
        Param("depositId", "uint32", indexed=True),
        Param("quoteTimestamp", "uint32"),
        Param("fillDeadline", "uint32"),
        Param("exclusivityDeadline", "uint32"),
        Param("depositor", "address", indexed=True),
        Param("recipient", "address"),
        Param("exclusiveRelayer", "address"),
        Param("message", "bytes"),
    ),
)
FILLED_V3_RELAY: Final = Event(
    "FilledV3Relay",
    (
        Param("inputToken", "address"),
        Param("outputToken", "address"),
        Param("inputAmount", "uint256"),
        Param("outputAmount", "uint256"),
        Param("repaymentChainId", "uint256"),
        Param("originChainId", "uint256", indexed=True),
        Param("depositId", "uint32", indexed=True),
        Param("fillDeadline", "uint32"),
        Param("exclusivityDeadline", "uint32"),
        Param("exclusiveRelayer", "address"),
        Param("relayer", "address", indexed=True),
        Param("depositor", "address"),
        Param("recipient", "address"),
        Param("message", "bytes"),
    ),
)
RELAYER_REPAID: Final = Event(
    "RelayerRepaid",
    (
        Param("depositId", "uint32", indexed=True),
        Param("relayer", "address", indexed=True),
        Param("inputToken", "address"),
        Param("inputAmount", "uint256"),
        Param("relayHash", "bytes32"),
        Param("settler", "address"),
    ),
)
DEPOSIT_REFUNDED: Final = Event(
    "DepositRefunded",
    (
        Param("depositId", "uint32", indexed=True),
        Param("depositor", "address", indexed=True),
        Param("inputToken", "address"),
        Param("inputAmount", "uint256"),
        Param("relayHash", "bytes32"),
        Param("caller", "address"),
    ),
)
ENABLED_DEPOSIT_ROUTE: Final = Event(
    "EnabledDepositRoute",
    (
        Param("originToken", "address", indexed=True),
        Param("destinationChainId", "uint256", indexed=True),
        Param("enabled", "bool"),
    ),
)
SETTLER_CHANGED: Final = Event("SettlerChanged", (Param("settler", "address"),))
EVENTS: Final = (
    V3_FUNDS_DEPOSITED, FILLED_V3_RELAY, RELAYER_REPAID, DEPOSIT_REFUNDED, ENABLED_DEPOSIT_ROUTE, SETTLER_CHANGED,
)  # fmt: skip

ERRORS: Final = (
    ErrorSpec("DisabledRoute", ("address", "uint256"), ("inputToken", "destinationChainId")),
    ErrorSpec("InvalidQuoteTimestamp", ("uint32", "uint256"), ("quoteTimestamp", "timestamp")),
    ErrorSpec("InvalidFillDeadline", ("uint32", "uint256"), ("fillDeadline", "timestamp")),
    ErrorSpec("InvalidExclusiveRelayer"),
    ErrorSpec("ExpiredFillDeadline", ("uint32", "uint256"), ("fillDeadline", "timestamp")),
    ErrorSpec("NotExclusiveRelayer", ("address", "uint32"), ("exclusiveRelayer", "exclusivityDeadline")),
    ErrorSpec("RelayFilled", ("bytes32",), ("relayHash",)),
    ErrorSpec("InvalidRepaymentChainId", ("uint256", "uint256"), ("repaymentChainId", "originChainId")),
    ErrorSpec("InvalidChainId", ("uint256",), ("chainId",)),
    ErrorSpec("NotAdmin", ("address",), ("caller",)),
    ErrorSpec("NotSettler", ("address",), ("caller",)),
    ErrorSpec("UnknownDeposit", ("uint32",), ("depositId",)),
    ErrorSpec("DepositSettled", ("uint32", "uint8"), ("depositId", "status")),
    ErrorSpec("RefundTooEarly", ("uint32", "uint256", "uint256"), ("depositId", "earliest", "timestamp")),
    ErrorSpec("BadRelayer", ("address",), ("relayer",)),
    ErrorSpec("Reentered"),
    ErrorSpec("TransferFailed", ("address", "bytes"), ("token", "reason")),
)


def _addr(value: str, where: str) -> ChecksumAddress:
    try:
        return to_checksum_address(value)
    except (TypeError, ValueError):
        raise InvalidInput(where, f"{value!r} is not an address", "give a 0x-prefixed 20-byte hex address") from None


def _u32(value: int, where: str) -> int:
    if not 0 <= value <= UINT32_MAX:
        raise InvalidInput(where, f"{value} does not fit uint32", "timestamps and ids are uint32 seconds/counters")
    return value


@dataclass(frozen=True, slots=True)
class Deposit:
    """What a trader asks of the bridge (``depositV3``'s arguments). Timestamps are the origin chain's."""

    depositor: ChecksumAddress
    recipient: ChecksumAddress
    input_token: ChecksumAddress
    output_token: ChecksumAddress
    input_amount: int
    output_amount: int
    destination_chain_id: int
    quote_timestamp: int
    fill_deadline: int
    exclusive_relayer: ChecksumAddress = ZERO_ADDRESS
    exclusivity_deadline: int = 0
    message: bytes = b""

    def __post_init__(self) -> None:
        for name in ("quote_timestamp", "fill_deadline", "exclusivity_deadline"):
            _u32(getattr(self, name), name)
        if self.input_amount <= 0 or self.output_amount < 0:
            raise InvalidInput("input_amount", "a deposit moves a positive amount")

    def calldata(self) -> bytes:
        return DEPOSIT_V3.encode(
            self.depositor, self.recipient, self.input_token, self.output_token, self.input_amount,
            self.output_amount, self.destination_chain_id, self.exclusive_relayer, self.quote_timestamp,
            self.fill_deadline, self.exclusivity_deadline, self.message,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class RelayData:
    """Across V3's ``V3RelayData``: what a relayer fills and what the relay hash commits to."""

    depositor: ChecksumAddress
    recipient: ChecksumAddress
    exclusive_relayer: ChecksumAddress
    input_token: ChecksumAddress
    output_token: ChecksumAddress
    input_amount: int
    output_amount: int
    origin_chain_id: int
    deposit_id: int
    fill_deadline: int
    exclusivity_deadline: int
    message: bytes

    def encoded(self) -> tuple[Any, ...]:
        return (
            self.depositor, self.recipient, self.exclusive_relayer, self.input_token, self.output_token,
            self.input_amount, self.output_amount, self.origin_chain_id, self.deposit_id, self.fill_deadline,
            self.exclusivity_deadline, self.message,
        )  # fmt: skip

    def relay_hash(self, destination_chain_id: int) -> bytes:
        """keccak256(abi.encode(relayData, destinationChainId)): ``fillStatuses`` key and ``deposits(id).relayHash``."""
        return keccak(encode([RELAY_DATA, "uint256"], [self.encoded(), destination_chain_id]))


@dataclass(frozen=True, slots=True)
class Deposited:
    """A ``V3FundsDeposited`` log, with what it implies: the relay to fill on the destination."""

    deposit_id: int
    destination_chain_id: int
    quote_timestamp: int
    relay: RelayData

    @property
    def fill_deadline(self) -> int:
        return self.relay.fill_deadline


@dataclass(frozen=True, slots=True)
class Filled:
    """A ``FilledV3Relay`` log on the destination."""

    relayer: ChecksumAddress
    repayment_chain_id: int
    relay: RelayData


@dataclass(frozen=True, slots=True)
class Repaid:
    deposit_id: int
    relayer: ChecksumAddress
    input_token: ChecksumAddress
    input_amount: int
    relay_hash: bytes
    settler: ChecksumAddress


@dataclass(frozen=True, slots=True)
class Refunded:
    deposit_id: int
    depositor: ChecksumAddress
    input_token: ChecksumAddress
    input_amount: int
    relay_hash: bytes
    caller: ChecksumAddress


@dataclass(frozen=True, slots=True)
class DepositRecord:
    """``deposits(id)`` on the origin."""

    depositor: ChecksumAddress
    fill_deadline: int
    status: DepositStatus
    input_token: ChecksumAddress
    input_amount: int
    relay_hash: bytes


SpokeEvent = Deposited | Filled | Repaid | Refunded


def _relay(v: dict[str, Any], origin_chain_id: int) -> RelayData:
    return RelayData(
        v["depositor"], v["recipient"], v["exclusiveRelayer"], v["inputToken"], v["outputToken"], v["inputAmount"],
        v["outputAmount"], origin_chain_id, v["depositId"], v["fillDeadline"], v["exclusivityDeadline"],
        bytes(v["message"]),
    )  # fmt: skip


def decode_log(log: Any, chain_id: int) -> SpokeEvent | None:
    """A spoke pool's log as a typed event (None for other logs). ``chain_id`` is the chain the log is from:
    a deposit's origin (its relay's ``origin_chain_id``)."""
    if (v := V3_FUNDS_DEPOSITED.decode_log(log)) is not None:
        return Deposited(v["depositId"], v["destinationChainId"], v["quoteTimestamp"], _relay(v, chain_id))
    if (v := FILLED_V3_RELAY.decode_log(log)) is not None:
        return Filled(v["relayer"], v["repaymentChainId"], _relay(v, v["originChainId"]))
    if (v := RELAYER_REPAID.decode_log(log)) is not None:
        return Repaid(v["depositId"], v["relayer"], v["inputToken"], v["inputAmount"], v["relayHash"], v["settler"])
    if (v := DEPOSIT_REFUNDED.decode_log(log)) is not None:
        return Refunded(v["depositId"], v["depositor"], v["inputToken"], v["inputAmount"], v["relayHash"], v["caller"])
    return None


def fill_calldata(relay: RelayData, repayment_chain_id: int | None = None) -> bytes:
    """``fillV3Relay``: the lab repays on the origin chain only, which is the default."""
    chain = relay.origin_chain_id if repayment_chain_id is None else repayment_chain_id
    return FILL_V3_RELAY.encode(relay.encoded(), chain)


def repay_calldata(deposit_id: int, relayer: str) -> bytes:
    return REPAY_RELAYER.encode(_u32(deposit_id, "deposit_id"), _addr(relayer, "relayer"))


def refund_calldata(deposit_id: int) -> bytes:
    return REFUND.encode(_u32(deposit_id, "deposit_id"))


def enable_route_calldata(token: str, destination_chain_id: int, enabled: bool = True) -> bytes:
    return SET_ENABLE_ROUTE.encode(_addr(token, "token"), destination_chain_id, enabled)


def deposits_calldata(deposit_id: int) -> bytes:
    return DEPOSITS.encode(_u32(deposit_id, "deposit_id"))


def decode_deposit_record(output: bytes) -> DepositRecord:
    depositor, deadline, status, token, amount, relay_hash = DEPOSITS.decode(output)
    return DepositRecord(depositor, deadline, DepositStatus(status), token, amount, bytes(relay_hash))


def fill_status_calldata(relay_hash: bytes) -> bytes:
    return FILL_STATUSES.encode(relay_hash)


def decode_fill_status(output: bytes) -> FillStatus:
    return FillStatus(FILL_STATUSES.decode(output)[0])


def decode_revert(data: bytes) -> ContractError | None:
    return decode_error(data, ERRORS)
