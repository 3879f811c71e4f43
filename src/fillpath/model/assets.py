"""Asset identity: an asset is a symbol at a location (``USDC@lab1``, ``ETH@labex``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from fillpath.model.errors import InvalidInput

_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_LOCATION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class LocationKind(StrEnum):
    EVM = "evm"
    CEX = "cex"


@dataclass(frozen=True, slots=True, order=True)
class AssetId:
    """``SYMBOL@LOCATION``. Two ids with one symbol are one economic asset held in two places."""

    symbol: str
    location: str
    _hash: int = field(init=False, repr=False, compare=False)
    """Ids key every dict of the router's hot loops: hashing the field tuple on each lookup was 15% of a route."""
    _text: str = field(init=False, repr=False, compare=False)
    """``str(id)`` is the sort key of every deterministic order in the router: built once, not per comparison."""

    def __post_init__(self) -> None:
        if not _SYMBOL.match(self.symbol):
            raise InvalidInput("asset", f"bad symbol {self.symbol!r}", "use letters, digits, '.', '_' or '-'")
        if not _LOCATION.match(self.location):
            raise InvalidInput("asset", f"bad location {self.location!r}", "use lower-case letters, digits, '_' or '-'")
        object.__setattr__(self, "_hash", hash((self.symbol, self.location)))
        object.__setattr__(self, "_text", f"{self.symbol}@{self.location}")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if other.__class__ is not AssetId:
            return NotImplemented
        o: AssetId = other
        return self._hash == o._hash and self.symbol == o.symbol and self.location == o.location

    @classmethod
    def parse(cls, text: str, *, field: str = "asset") -> AssetId:
        symbol, sep, location = text.partition("@")
        if not sep or not symbol or not location:
            raise InvalidInput(field, f"{text!r} is not SYMBOL@LOCATION", "for example WETH@lab1")
        try:
            return cls(symbol, location)
        except InvalidInput as exc:
            raise InvalidInput(field, exc.problem, exc.fix) from None

    def __str__(self) -> str:
        return self._text


@dataclass(frozen=True, slots=True)
class Location:
    """A place where assets sit: an EVM chain or an exchange account."""

    id: str
    kind: LocationKind
    chain_id: int | None = None

    def __post_init__(self) -> None:
        if not _LOCATION.match(self.id):
            raise InvalidInput("location", f"bad location id {self.id!r}", "use lower-case letters and digits")
        if self.kind is LocationKind.EVM and self.chain_id is None:
            raise InvalidInput(f"locations.{self.id}.chain_id", "missing", "an EVM location needs a chain id")
