"""Reconciliation against the simulator over HTTP, on both store backends: the simulator fixtures come from
tests/cex/conftest.py, the connector factory from connector_fixtures, and ``store`` (SQLite, PostgreSQL)
from tests/state/conftest.py."""

import pytest
from connector_fixtures import make_connector
from simkit import DIALECTS
from tests.state.conftest import pg_server, pg_url, sqlite_url, store, store_url

__all__ = ["make_connector", "pg_server", "pg_url", "sqlite_url", "store", "store_url"]


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)
