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
    """``1.5`` with 6 decimals → ``1500000``. More precision than the asset allows is an error.

    Integer arithmetic on the decimal's digits: Decimal operations would round at the context precision
    (28 digits), and uint256 amounts have up to 78.
    """
    if not 0 <= decimals <= 77:
        raise InvalidInput("decimals", f"{decimals} is out of range", "decimals are between 0 and 77")
    value = parse_decimal(amount, field=field)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: checked by parse_decimal
    if len(digits) > 200:
        raise InvalidInput(field, f"{len(digits)} digits is too long for an amount", "amounts fit in 256 bits")
    mantissa = int("".join(map(str, digits)) or "0")
    shift = exponent + decimals
    if mantissa and len(digits) + shift > 79:  # before 10**shift: 1e999999999 must be refused, not computed
        raise InvalidInput(field, f"{value:.3e} is too large", "amounts must fit in 256 bits")
    if not mantissa:
        shift = 0  # zero in any notation is zero (0e±999999999 included)
    if shift < -200:
        raise InvalidInput(
            field, f"{value:.3e} has more than {decimals} decimal places", f"this asset has {decimals} decimals"
        )
    if shift >= 0:
        units = mantissa * 10**shift
    else:
        units, rest = divmod(mantissa, 10**-shift)
        if rest:
            raise InvalidInput(
                field,
                f"{value if len(str(value)) <= 40 else format(value, '.3e')} has more than {decimals} decimal places",
                f"this asset has {decimals} decimals; round the amount yourself",
            )
    if sign and units:
        raise InvalidInput(field, f"{value} is negative", "give a positive amount")
    if units > UINT256_MAX:
        raise InvalidInput(field, f"{value} is too large", "amounts must fit in 256 bits")
    return BaseUnits(units)


def from_base_units(units: int, decimals: int) -> Decimal:
    """``1500000`` with 6 decimals → ``Decimal('1.5')``, exactly (built from digits, never rounded)."""
    sign = 1 if units < 0 else 0
    return Decimal((sign, tuple(int(c) for c in str(abs(units))), -decimals))


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
