"""The conformance suite for ccxt's binance through the Binance dialect, against the simulator."""

from __future__ import annotations

import pytest
from conformance import ExchangeConformance
from connector_fixtures import connector, make_connector, store

__all__ = ["connector", "make_connector", "store"]


class TestBinanceConformance(ExchangeConformance):
    @pytest.fixture
    def dialect(self) -> str:
        return "binance"
