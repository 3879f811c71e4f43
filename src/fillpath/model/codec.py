"""Typed, lossless payloads for the vocabulary's frozen dataclasses.

Every field type the vocabulary may use is listed here, with how it is written to JSON. Integers and
decimals are written as strings so no JSON reader's number precision can touch them. ``Amount`` fields
(``int`` base units *or* ``Decimal``) write a decimal with a point or an exponent, so the kind of the amount
survives the round trip: ``"5"`` is the int 5, ``"5E+0"`` is ``Decimal("5")``.

The same table checks field types at construction, so a float never gets into an event.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, TypeAlias, TypeVar

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput

Amount: TypeAlias = int | Decimal
"""Base units (``int``, on-chain) or an exact quantity (``Decimal``, CEX)."""

PayloadValue: TypeAlias = str | bool | None
Payload: TypeAlias = dict[str, PayloadValue]

_INT = re.compile(r"^-?[0-9]+$")

_Check = Callable[[object], bool]
_Encode = Callable[[Any], PayloadValue]
_Decode = Callable[[PayloadValue, str], Any]


class _FieldCodec(typing.NamedTuple):
    name: str
    type_name: str
    check: _Check
    encode: _Encode
    decode: _Decode


def decimal_text_for_amount(value: Decimal) -> str:
    """``str(value)``, with ``E+0`` added when it would otherwise read as an integer."""
    text = str(value)
    return text if ("." in text or "E" in text) else text + "E+0"


def _decode_int(raw: PayloadValue, field: str) -> int:
    if not isinstance(raw, str) or not _INT.match(raw):
        raise InvalidInput(field, f"{raw!r} is not an integer string", 'write it as a string, e.g. "1000"')
    return int(raw)


def _decode_decimal(raw: PayloadValue, field: str) -> Decimal:
    if not isinstance(raw, str):
        raise InvalidInput(field, f"{raw!r} is not a decimal string", 'write it as a string, e.g. "1.5"')
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(field, f"{raw!r} is not a decimal string", 'for example "1.5"') from None
    if not value.is_finite():
        raise InvalidInput(field, f"{raw!r} is not finite", 'for example "1.5"')
    return value


def _decode_amount(raw: PayloadValue, field: str) -> Amount:
    if isinstance(raw, str) and _INT.match(raw):
        return int(raw)
    return _decode_decimal(raw, field)


def _decode_str(raw: PayloadValue, field: str) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(field, f"{raw!r} is not a string")
    return raw


def _decode_bool(raw: PayloadValue, field: str) -> bool:
    if not isinstance(raw, bool):
        raise InvalidInput(field, f"{raw!r} is not true or false")
    return raw


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_decimal(v: object) -> bool:
    return isinstance(v, Decimal) and v.is_finite()


def _scalar(tp: object, name: str) -> _FieldCodec:
    if tp is str:
        return _FieldCodec(name, "str", lambda v: isinstance(v, str), lambda v: v, _decode_str)
    if tp is bool:
        return _FieldCodec(name, "bool", lambda v: isinstance(v, bool), lambda v: v, _decode_bool)
    if tp is int:
        return _FieldCodec(name, "int", _is_int, str, _decode_int)
    if tp is Decimal:
        return _FieldCodec(name, "finite Decimal", _is_decimal, str, _decode_decimal)
    if tp is AssetId:
        return _FieldCodec(
            name,
            "AssetId",
            lambda v: isinstance(v, AssetId),
            str,
            lambda raw, f: AssetId.parse(_decode_str(raw, f), field=f),
        )
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        enum_type: type[StrEnum] = tp

        def decode_enum(raw: PayloadValue, f: str) -> StrEnum:
            try:
                return enum_type(_decode_str(raw, f))
            except ValueError:
                allowed = ", ".join(m.value for m in enum_type)
                raise InvalidInput(f, f"{raw!r} is not one of {allowed}") from None

        return _FieldCodec(name, enum_type.__name__, lambda v: isinstance(v, enum_type), str, decode_enum)
    raise TypeError(f"field {name!r}: type {tp!r} has no lossless payload form")


def _codec_for(tp: object, name: str) -> _FieldCodec:
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:
        args = set(typing.get_args(tp))
        optional = type(None) in args
        args.discard(type(None))
        if args == {int, Decimal}:
            inner = _FieldCodec(
                name,
                "int or finite Decimal",
                lambda v: _is_int(v) or _is_decimal(v),
                lambda v: str(v) if isinstance(v, int) else decimal_text_for_amount(v),
                _decode_amount,
            )
        elif len(args) == 1:
            inner = _scalar(next(iter(args)), name)
        else:
            raise TypeError(f"field {name!r}: union {tp!r} has no lossless payload form")
        if not optional:
            return inner
        return _FieldCodec(
            name,
            f"{inner.type_name} or None",
            lambda v: v is None or inner.check(v),
            lambda v: None if v is None else inner.encode(v),
            lambda raw, f: None if raw is None else inner.decode(raw, f),
        )
    return _scalar(tp, name)


def _codecs(cls: type) -> tuple[_FieldCodec, ...]:
    return _codecs_cached(cls)


@cache
def _codecs_cached(cls: Any) -> tuple[_FieldCodec, ...]:
    """Built once per class on first use (memoised), never at import."""
    hints = typing.get_type_hints(cls)
    return tuple(_codec_for(hints[f.name], f.name) for f in fields(cls))


def check_fields(value: object) -> None:
    """Refuse a value whose fields are not of their declared types (a float amount, a bool for an int)."""
    for codec in _codecs(type(value)):
        v = getattr(value, codec.name)
        if not codec.check(v):
            raise InvalidInput(
                f"{type(value).__name__}.{codec.name}", f"{v!r} is not {codec.type_name}", "amounts are exact"
            )


def to_payload(value: object) -> Payload:
    """The JSON-safe dict of a vocabulary value: strings, booleans and nulls only."""
    return {c.name: c.encode(getattr(value, c.name)) for c in _codecs(type(value))}


T = TypeVar("T")


def from_payload(cls: type[T], payload: typing.Mapping[str, object]) -> T:
    """The inverse of :func:`to_payload`; unknown or missing keys are errors, not guesses."""
    codecs = _codecs(cls)
    names = {c.name for c in codecs}
    extra = set(payload) - names
    if extra:
        raise InvalidInput(cls.__name__, f"unknown fields {sorted(extra)}")
    missing = names - set(payload)
    if missing:
        raise InvalidInput(cls.__name__, f"missing fields {sorted(missing)}")
    args: dict[str, Any] = {}
    for c in codecs:
        raw = payload[c.name]
        if raw is not None and not isinstance(raw, str | bool):
            raise InvalidInput(f"{cls.__name__}.{c.name}", f"{raw!r} is not a string, boolean or null")
        args[c.name] = c.decode(raw, f"{cls.__name__}.{c.name}")
    return cls(**args)


class Value:
    """Base of the vocabulary's frozen dataclasses: fields are type-checked when a value is built."""

    __slots__ = ()

    def __post_init__(self) -> None:
        check_fields(self)
