"""A local exchange that speaks Binance's spot API (REST, streams, WebSocket API) with fault injection.

ccxt's own ``binance`` class works against it once its URLs point here (see ``fillpath.cex.binance.urls``).
"""

from fillpath.lab.exchange.config import SimConfig, load_sim_config
from fillpath.lab.exchange.runner import SimProcess, SimServer, spawn_sim
from fillpath.lab.exchange.venue import SimVenue

__all__ = ["SimConfig", "SimProcess", "SimServer", "SimVenue", "load_sim_config", "spawn_sim"]
