"""Exact amounts. On-chain quantities are ``int`` base units; human quantities are ``Decimal``.

Conversions never round: an amount with more decimals than the asset has is an error.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded
from typing import NewType

from fillpath.model.errors import InvalidInput

Wei = NewType("Wei", int)
"""Native-currency base units on an EVM chain."""

BaseUnits = NewType("BaseUnits", int)
"""Token base units (``amount * 10**decimals``)."""

UINT256_MAX = 2**256 - 1


def parse_decimal(text: str | int | Decimal, *, field: str) -> Decimal:
    """A finite Decimal from a string or int. Floats are refused: they are not exact."""
    if isinstance(text, bool | float):
        raise InvalidInput(field, f"{text!r} is a float", "give the amount as a decimal string")
    if isinstance(text, Decimal):
        value = text
    else:
        try:
            value = Decimal(str(text).strip().replace("_", ""))
        except InvalidOperation:
            raise InvalidInput(field, f"{text!r} is not a number", "for example 1.5 or 2000") from None
    if not value.is_finite():
        raise InvalidInput(field, f"{text!r} is not a finite number", "for example 1.5 or 2000")
    return value


def to_base_units(amount: str | int | Decimal, decimals: int, *, field: str = "amount") -> BaseUnits:
    """``1.5`` with 6 decimals → ``1500000``. More precision than the asset allows is an error."""
    if not 0 <= decimals <= 77:
        raise InvalidInput("decimals", f"{decimals} is out of range", "decimals are between 0 and 77")
    value = parse_decimal(amount, field=field)
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            field,
            f"{value} has more than {decimals} decimal places",
            f"this asset has {decimals} decimals; round the amount yourself",
        )
    units = int(scaled)
    if units < 0:
        raise InvalidInput(field, f"{value} is negative", "give a positive amount")
    if units > UINT256_MAX:
        raise InvalidInput(field, f"{value} is too large", "amounts must fit in 256 bits")
    return BaseUnits(units)


def from_base_units(units: int, decimals: int) -> Decimal:
    """``1500000`` with 6 decimals → ``Decimal('1.5')``, exactly (no context rounding)."""
    return Decimal(units).scaleb(-decimals)


def parse_base_units(text: object, *, field: str) -> int:
    """A non-negative integer from a JSON integer string (the snapshot convention)."""
    if not isinstance(text, str):
        raise InvalidInput(field, f"{text!r} is not an integer string", 'write it as a string, e.g. "1000"')
    body = text[1:] if text.startswith("-") else text
    if not body.isdigit() or not body.isascii():
        raise InvalidInput(field, f"{text!r} is not an integer string", 'write it as a string, e.g. "1000"')
    return int(text)


_EXACT = Context(prec=1000, traps=[Inexact, Rounded, InvalidOperation])


def add_exact(a: Decimal, b: Decimal) -> Decimal:
    """``a + b`` that raises ``decimal.Inexact`` rather than round (the default context keeps 28 digits)."""
    return _EXACT.add(a, b)
