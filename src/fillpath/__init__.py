"""fillpath: route a swap over every venue at once, execute it durably, and keep books that agree with venues.

The public API is :class:`fillpath.Client` and :class:`fillpath.AsyncClient` (docs/api.md). They are loaded on
first use, so ``import fillpath`` stays cheap (``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fillpath._version import __version__

__all__ = ["AsyncClient", "Client", "__version__"]

if TYPE_CHECKING:
    from fillpath.client import AsyncClient, Client


def __getattr__(name: str) -> Any:
    if name in ("Client", "AsyncClient"):
        # imported by name at first use: the top-level package must not load the client's dependencies
        return getattr(importlib.import_module("fillpath.client"), name)
    raise AttributeError(f"module 'fillpath' has no attribute {name!r}")
