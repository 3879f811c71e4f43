"""ccxt's own ``okx`` class pointed at the simulator: the URLs rewritten, and the options the simulator needs."""

from __future__ import annotations

from typing import Any

from fillpath.cex.okx.urls import point_okx_at

# ccxt 4.5.90 names: load spot instruments only (the simulator lists no futures, swaps or options).
SIM_OKX_OPTIONS: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}}


def sim_okx(http_base: str, api_key: str, secret: str, passphrase: str, *, pro: bool = False, **config: Any) -> Any:
    """A ``ccxt.async_support.okx`` (or ``ccxt.pro.okx``) on ``http_base``; close it after use."""
    if pro:
        import ccxt.pro as ccxt_module
    else:
        import ccxt.async_support as ccxt_module
    exchange = ccxt_module.okx({"apiKey": api_key, "secret": secret, "password": passphrase, **config})
    point_okx_at(exchange, http_base)
    for key, value in SIM_OKX_OPTIONS.items():
        exchange.options[key] = value
    return exchange
