"""Pointing ccxt's ``binance`` at another Binance-compatible host (the simulator, or a proxy).

ccxt keeps one base URL per API family in ``urls['api']`` (``public``, ``private``, ``v1``, ``sapi``...,
and on ccxt.pro ``ws`` with ``spot``/``margin`` streams and ``ws-api`` → ``spot``). We rewrite every one of
them to the new origin, keeping each path, so no family silently keeps talking to the real exchange.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def rewrite_urls(urls: Any, http_base: str) -> Any:
    """``urls['api']`` with every URL's origin replaced: http(s) → ``http_base``, ws(s) → its ws twin."""
    http = http_base.rstrip("/")
    parts = urlsplit(http)
    ws = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
    if isinstance(urls, dict):
        return {key: rewrite_urls(value, http_base) for key, value in urls.items()}
    if isinstance(urls, str) and "://" in urls:
        old = urlsplit(urls)
        origin = ws if old.scheme in ("ws", "wss") else http
        return origin + old.path + (f"?{old.query}" if old.query else "")
    return urls


def point_binance_at(exchange: Any, http_base: str) -> None:
    """Rewrite ``exchange.urls['api']`` in place: every API family, REST and streams, to ``http_base``."""
    exchange.urls["api"] = rewrite_urls(exchange.urls["api"], http_base)
