"""Reconciliation against the simulator over HTTP, on both store backends: the simulator fixtures come from
tests/cex/conftest.py, the connector factory from connector_fixtures, and ``store`` (SQLite, PostgreSQL)
from tests/state/conftest.py."""

from connector_fixtures import make_connector
from tests.state.conftest import pg_server, pg_url, sqlite_url, store, store_url

__all__ = ["make_connector", "pg_server", "pg_url", "sqlite_url", "store", "store_url"]
