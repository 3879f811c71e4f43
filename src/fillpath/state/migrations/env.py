"""Alembic environment. Runs only on a connection handed in by :func:`fillpath.state.migrate.upgrade`."""

from __future__ import annotations

from alembic import context

from fillpath.state.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through fillpath.state.migrate.upgrade(engine), not the alembic CLI")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
