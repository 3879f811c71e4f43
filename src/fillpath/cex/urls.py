"""Re-pointing a ccxt exchange at another origin (the simulator, a proxy), every API family at once.

ccxt keeps one base URL per API family in ``urls['api']`` (REST families, and on ccxt.pro the WebSocket hosts);
:func:`rewrite_urls` replaces the origin of every one of them, keeping each path, so no family silently keeps
talking to the real exchange. Each dialect package wraps it as ``point_at``.
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
