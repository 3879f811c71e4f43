"""``fillpath lab up | down | status``: the local chains (and, later, the exchange simulator)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the local lab: two anvil chains with the real Uniswap contracts.", no_args_is_help=True)
