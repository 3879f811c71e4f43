"""A local exchange that speaks Binance's spot API (REST, streams, WebSocket API) with fault injection.

ccxt's own ``binance`` class works against it once its URLs point here (see ``fillpath.cex.binance_urls``).
"""

from fillpath.cex.sim.config import SimConfig, load_sim_config
from fillpath.cex.sim.runner import SimProcess, SimServer, spawn_sim
from fillpath.cex.sim.venue import SimVenue

__all__ = ["SimConfig", "SimProcess", "SimServer", "SimVenue", "load_sim_config", "spawn_sim"]
