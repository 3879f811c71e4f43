"""Binance spot: the dialect and the URL rewriting (``fillpath.cex.factory`` finds a venue's package by ccxt id)."""

from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.binance.urls import point_binance_at as point_at

DIALECT = BinanceDialect

__all__ = ["DIALECT", "BinanceDialect", "point_at"]
