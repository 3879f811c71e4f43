"""Strict readers for JSON fields of the snapshot and plan formats; every error names the JSON path.

A ``Fields`` wraps one JSON object at a path. Each getter takes the key, checks its type strictly (a JSON
number is never accepted where an integer string belongs, a bool is never a number, no floats anywhere) and
raises ``InvalidInput(path, problem, fix)``. ``done()`` rejects keys nobody asked for (typos, foreign fields).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput

_INT_STRING = re.compile(r"^-?[0-9]+$")
_DECIMAL_STRING = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_MISSING = object()
_MAX_DIGITS = 79  # uint256 has 78 digits; one more for a sign


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, int):
        return "a JSON number"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def int_string(value: object, path: str, *, signed: bool = False) -> int:
    """An integer written as a JSON string (base units: reserves, liquidity, gas ...)."""
    if not isinstance(value, str) or not _INT_STRING.match(value):
        raise InvalidInput(
            path, f"not an integer string ({describe(value)})", 'write base units as a string, e.g. "1000"'
        )
    if len(value) > _MAX_DIGITS:  # before int(): a 100,000-digit string is refused, not parsed
        raise InvalidInput(path, f"{len(value)} digits: outside uint256", "amounts fit in 78 digits")
    number = int(value)
    if number < 0 and not signed:
        raise InvalidInput(path, "negative", "amounts here are >= 0")
    return number


def decimal_string(value: object, path: str) -> Decimal:
    """A non-negative decimal written as a JSON string (CEX quantities, prices)."""
    if not isinstance(value, str) or not _DECIMAL_STRING.match(value):
        raise InvalidInput(path, f"not a decimal string ({describe(value)})", 'for example "3000.10"')
    if len(value) > _MAX_DIGITS:
        raise InvalidInput(path, f"{len(value)} characters: too long for a price or quantity", "at most 78")
    number = Decimal(value)
    if number < 0:
        raise InvalidInput(path, "negative", "prices and quantities are >= 0")
    return number


def json_int(value: object, path: str, *, low: int | None = 0, high: int | None = None) -> int:
    """A small count written as a JSON integer (decimals, chain id, fee_ppm, tick ...)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(path, f"not a JSON integer ({describe(value)})", "write it as a bare integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidInput(path, f"{value} is out of range [{low}, {high}]", "check the value")
    return value


def string(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(path, f"not a non-empty string ({describe(value)})", "write it as a JSON string")
    return value


def asset_id(value: object, path: str) -> AssetId:
    return AssetId.parse(string(value, path), field=path)


def array(value: object, path: str, *, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(path, f"not a list ({describe(value)})", "write a JSON array")
    if length is not None and len(value) != length:
        raise InvalidInput(path, f"has {len(value)} items, expected {length}", "check the format")
    return value


class Fields:
    """One JSON object being read; tracks which keys were consumed."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise InvalidInput(path or "$", f"not an object ({describe(value)})", "write a JSON object")
        self.data: dict[str, Any] = value
        self.path = path
        self.used: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, *, optional: bool = False) -> Any:
        self.used.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if optional:
                return None
            raise InvalidInput(self.at(key), "missing", "see docs/SNAPSHOT.md for the required fields")
        return value

    def int_string(self, key: str, *, signed: bool = False) -> int:
        return int_string(self.raw(key), self.at(key), signed=signed)

    def decimal_string(self, key: str) -> Decimal:
        return decimal_string(self.raw(key), self.at(key))

    def json_int(self, key: str, *, low: int | None = 0, high: int | None = None) -> int:
        return json_int(self.raw(key), self.at(key), low=low, high=high)

    def string(self, key: str) -> str:
        return string(self.raw(key), self.at(key))

    def asset_id(self, key: str) -> AssetId:
        return asset_id(self.raw(key), self.at(key))

    def array(self, key: str, *, length: int | None = None) -> list[Any]:
        return array(self.raw(key), self.at(key), length=length)

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            raise InvalidInput(self.at(extra[0]), "unknown field", "remove it or check its spelling")


def decimal_text(value: Decimal) -> str:
    """A Decimal as a plain decimal string (never exponent notation, which the reader refuses)."""
    return format(value, "f")
