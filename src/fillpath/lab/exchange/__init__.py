"""A local exchange with fault injection, speaking one exchange's API per instance: Binance spot (REST, streams,
WebSocket API) or OKX v5 (REST, private WebSocket), over one matching engine.

ccxt's own ``binance`` and ``okx`` classes work against it once their URLs point here (see
``fillpath.cex.binance.urls`` and ``fillpath.cex.okx.urls``).
"""

from fillpath.lab.exchange.config import SimConfig, load_sim_config
from fillpath.lab.exchange.runner import SimProcess, SimServer, spawn_sim
from fillpath.lab.exchange.venue import SimVenue

__all__ = ["SimConfig", "SimProcess", "SimServer", "SimVenue", "load_sim_config", "spawn_sim"]
