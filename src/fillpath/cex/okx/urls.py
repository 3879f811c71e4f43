"""Pointing ccxt's ``okx`` at another OKX-compatible host (the simulator, or a proxy).

ccxt 4.5.90 keeps ``urls['api']['rest']`` (``https://{hostname}``, the hostname from ``options``) and, on
ccxt.pro, ``urls['api']['ws']`` (``wss://ws.okx.com:443/ws/v5``, to which it appends ``/public``, ``/private``
or ``/business``). Both are rewritten to the new origin, keeping the WebSocket path.
"""

from __future__ import annotations

from typing import Any

from fillpath.cex.urls import rewrite_urls


def point_okx_at(exchange: Any, http_base: str) -> None:
    """Rewrite ``exchange.urls['api']`` in place: REST and the WebSocket hosts, to ``http_base``."""
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], http_base)
