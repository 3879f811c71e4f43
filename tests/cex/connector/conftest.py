"""The connector fixtures (tests/cex/connector_fixtures.py) for every test in this folder."""

from connector_fixtures import connector, driver, make_connector, store

__all__ = ["connector", "driver", "make_connector", "store"]
