"""ccxt's own ``binance`` class pointed at the simulator: the URLs rewritten, and the options the simulator needs."""

from __future__ import annotations

from typing import Any

from fillpath.cex.binance.urls import point_binance_at

# ccxt 4.5.90 names: skip the private currencies call and the margin pair lists, load spot markets only.
SIM_BINANCE_OPTIONS: dict[str, Any] = {
    "fetchCurrencies": False,
    "fetchMargins": False,
    "fetchMarkets": {"types": ["spot"]},
}


def sim_binance(http_base: str, api_key: str, secret: str, *, pro: bool = False, **config: Any) -> Any:
    """A ``ccxt.async_support.binance`` (or ``ccxt.pro.binance``) on ``http_base``; close it after use."""
    if pro:
        import ccxt.pro as ccxt_module
    else:
        import ccxt.async_support as ccxt_module
    exchange = ccxt_module.binance({"apiKey": api_key, "secret": secret, **config})
    point_binance_at(exchange, http_base)
    for key, value in SIM_BINANCE_OPTIONS.items():
        exchange.options[key] = value
    return exchange
