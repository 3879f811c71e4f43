"""``fillpath demo``: the README's main job on the embedded lab.

Until execution lands, the demo brings the lab up and shows what is deployed (see the README).
"""

from __future__ import annotations

import typer

from fillpath.cli.lab import lab_for, print_status


def demo(ctx: typer.Context) -> None:
    """Bring the lab up and show what is deployed on each chain."""
    lab = lab_for(ctx)
    nodes = lab.up()
    ex = lab.exchange_status()
    print_status(nodes, ex)
    if not (all(n.responding for n in nodes) and ex.responding):
        raise typer.Exit(1)
