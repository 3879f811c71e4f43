"""OKX v5 spot: the dialect and the URL rewriting (``fillpath.cex.factory`` finds a venue's package by ccxt id)."""

from fillpath.cex.okx.dialect import OkxDialect
from fillpath.cex.okx.urls import point_okx_at as point_at

DIALECT = OkxDialect

__all__ = ["DIALECT", "OkxDialect", "point_at"]
