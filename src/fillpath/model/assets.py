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


@dataclass(frozen=True, slots=True, eq=False, init=False)
class AssetId:
    """``SYMBOL@LOCATION``. Two ids with one symbol are one economic asset held in two places.

    Interned: ``AssetId(s, l)`` returns the one object for (s, l) (pickling and copying go through the constructor
    too), so equality is identity and the hash is the object's. Ids key every dict of the router's hot loops: a
    Python ``__hash__``/``__eq__`` there was ~4,000 interpreted calls a route, the builtin ones cost none."""

    symbol: str
    location: str
    _text: str = field(init=False, repr=False, compare=False)
    """``str(id)`` is the sort key of every deterministic order in the router: built once, not per comparison."""

    def __new__(cls, symbol: str, location: str) -> AssetId:
        known = _INTERNED.get((symbol, location))
        if known is not None:
            return known
        if not _SYMBOL.match(symbol):
            raise InvalidInput("asset", f"bad symbol {symbol!r}", "use letters, digits, '.', '_' or '-'")
        if not _LOCATION.match(location):
            raise InvalidInput("asset", f"bad location {location!r}", "use lower-case letters, digits, '_' or '-'")
        made = object.__new__(cls)
        object.__setattr__(made, "symbol", symbol)
        object.__setattr__(made, "location", location)
        object.__setattr__(made, "_text", f"{symbol}@{location}")
        return _INTERNED.setdefault((symbol, location), made)  # a racing thread's object wins for both

    def __reduce__(self) -> tuple[type[AssetId], tuple[str, str]]:
        return (AssetId, (self.symbol, self.location))

    def __lt__(self, other: AssetId) -> bool:
        return (self.symbol, self.location) < (other.symbol, other.location)

    def __le__(self, other: AssetId) -> bool:
        return (self.symbol, self.location) <= (other.symbol, other.location)

    def __gt__(self, other: AssetId) -> bool:
        return (self.symbol, self.location) > (other.symbol, other.location)

    def __ge__(self, other: AssetId) -> bool:
        return (self.symbol, self.location) >= (other.symbol, other.location)

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


_INTERNED: dict[tuple[str, str], AssetId] = {}
"""Every id made, by (symbol, location): a few hundred in any process."""


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
