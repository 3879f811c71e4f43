"""The conformance suite for ccxt's okx through the OKX v5 dialect, against the simulator's OKX surface."""

from __future__ import annotations

import pytest
from conformance import ExchangeConformance
from connector_fixtures import connector, make_connector, store

__all__ = ["connector", "make_connector", "store"]


class TestOkxConformance(ExchangeConformance):
    @pytest.fixture
    def dialect(self) -> str:
        return "okx"
