"""The public Python API (docs/api.md): :class:`Client` (synchronous) and :class:`AsyncClient`, and the frozen
values they return. Loaded lazily: ``import fillpath`` imports none of it."""

from __future__ import annotations

from fillpath.client.async_client import AsyncClient
from fillpath.client.sync_client import Client

__all__ = ["AsyncClient", "Client"]
