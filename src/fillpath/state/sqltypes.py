"""Column types that keep amounts exact on both backends.

SQLite's NUMERIC affinity turns a 78-digit integer into a float, so base units are text there; PostgreSQL
gets ``NUMERIC(78, 0)``, which holds every uint256. Decimals are text on both: PostgreSQL's NUMERIC would
normalise ``1E+3`` to ``1000``, and the ledger promises the value it was given back, digit for digit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount, decimal_text_for_amount


class BaseUnitsType(TypeDecorator[int]):
    """A Python ``int`` of up to 78 digits (uint256 and its negatives)."""

    impl = String(80)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(78, 0, asdecimal=True))
        return dialect.type_descriptor(String(80))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return Decimal(value)
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value)


class DecimalText(TypeDecorator[Decimal]):
    """A ``Decimal``, stored as its exact ``str``."""

    impl = String(100)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class AmountText(TypeDecorator[Amount]):
    """An ``int`` or a ``Decimal``, tagged the way event payloads tag them (``"5"`` vs ``"5E+0"``)."""

    impl = String(100)
    cache_ok = True

    def process_bind_param(self, value: Amount | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(value) if isinstance(value, int) else decimal_text_for_amount(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Amount | None:
        if value is None:
            return None
        body = value[1:] if value.startswith("-") else value
        return int(value) if body.isdigit() else Decimal(value)


class AssetIdType(TypeDecorator[AssetId]):
    impl = String(100)
    cache_ok = True

    def process_bind_param(self, value: AssetId | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> AssetId | None:
        return None if value is None else AssetId.parse(value)
