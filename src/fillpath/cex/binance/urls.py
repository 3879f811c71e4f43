"""Pointing ccxt's ``binance`` at another Binance-compatible host (the simulator, or a proxy).

ccxt keeps one base URL per API family in ``urls['api']`` (``public``, ``private``, ``v1``, ``sapi``...,
and on ccxt.pro ``ws`` with ``spot``/``margin`` streams and ``ws-api`` → ``spot``). We rewrite every one of
them to the new origin, keeping each path, so no family silently keeps talking to the real exchange.
"""

from __future__ import annotations

from typing import Any

from fillpath.cex.urls import rewrite_urls

__all__ = ["point_binance_at", "rewrite_urls"]


def point_binance_at(exchange: Any, http_base: str) -> None:
    """Rewrite ``exchange.urls['api']`` in place: every API family, REST and streams, to ``http_base``."""
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], http_base)
