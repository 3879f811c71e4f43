"""Functions, events and custom errors known by signature: encode calls, decode results, logs and reverts.

Small on purpose: each lab contract module declares its own table, and ``tests/contracts`` checks every table
against the forge artifact, so a renamed argument type fails a test instead of a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak


def _checksummed(types: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True))


@dataclass(frozen=True, slots=True)
class Function:
    """A function by name and ABI types; ``encode`` gives calldata, ``decode`` the returned values."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    def encode(self, *args: Any) -> bytes:
        return self.selector + encode(list(self.inputs), list(args))

    def decode(self, output: bytes) -> tuple[Any, ...]:
        return _checksummed(self.outputs, decode(list(self.outputs), output))


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    indexed: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    """An event by name and parameters (static indexed parameters only: the lab's events have no others)."""

    name: str
    params: tuple[Param, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(p.type for p in self.params)})"

    @property
    def topic0(self) -> bytes:
        return keccak(text=self.signature)

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any] | None:
        """The log's named values, or None if the log is another event."""
        if not topics or bytes(topics[0]) != self.topic0:
            return None
        indexed = [p for p in self.params if p.indexed]
        plain = [p for p in self.params if not p.indexed]
        if len(topics) != 1 + len(indexed):
            return None
        values: dict[str, Any] = {}
        for p, topic in zip(indexed, topics[1:], strict=True):
            values[p.name] = _checksummed([p.type], decode([p.type], bytes(topic)))[0]
        types = [p.type for p in plain]
        for p, v in zip(plain, _checksummed(types, decode(types, bytes(data))), strict=True):
            values[p.name] = v
        return {p.name: values[p.name] for p in self.params}

    def decode_log(self, log: Mapping[str, Any]) -> dict[str, Any] | None:
        """``decode`` on a web3 log (a receipt's ``logs`` entry or ``eth_getLogs`` result)."""
        return self.decode([bytes(t) for t in log["topics"]], bytes(log["data"]))


@dataclass(frozen=True, slots=True)
class ContractError:
    """A decoded revert: the custom error (or Error/Panic) with its named arguments."""

    name: str
    args: tuple[tuple[str, Any], ...]

    def arg(self, name: str) -> Any:
        return dict(self.args)[name]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.args)})"


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    name: str
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.types)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]


BUILTIN_ERRORS = (ErrorSpec("Error", ("string",), ("message",)), ErrorSpec("Panic", ("uint256",), ("code",)))


def decode_error(data: bytes, specs: Iterable[ErrorSpec]) -> ContractError | None:
    """The revert data as one of ``specs`` (or Error/Panic), None when it is none of them."""
    for spec in (*specs, *BUILTIN_ERRORS):
        if data[:4] == spec.selector:
            try:
                values = decode(list(spec.types), data[4:])
            except Exception:
                return None
            return ContractError(spec.name, tuple(zip(spec.names, _checksummed(spec.types, values), strict=True)))
    return None
