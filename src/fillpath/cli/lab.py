"""``fillpath lab up | down | status``: the local chains with the real Uniswap contracts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from fillpath.chains.lab.manager import Lab, NodeStatus
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json, err_console

app = typer.Typer(help="Run the local lab: two anvil chains with the real Uniswap contracts.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def lab_for(ctx: typer.Context, *, quiet: bool = False) -> Lab:
    cfg = cli_context(ctx).config()
    err = err_console()
    return Lab(cfg.data_dir, log=(lambda _m: None) if quiet else (lambda m: err.print(f"[dim]{m}[/dim]")))


def _status_json(nodes: list[NodeStatus]) -> dict[str, object]:
    return {"locations": {n.location: n.to_json() for n in nodes}}


def print_status(nodes: list[NodeStatus], *, contracts: bool = True) -> None:
    out = console()
    table = Table(title="lab", show_lines=False)
    for col in ("location", "chain id", "state", "rpc", "block", "pid"):
        table.add_column(col)
    for n in nodes:
        state = "[green]up[/green]" if n.responding else f"[red]down[/red] ({n.problem})"
        table.add_row(n.location, str(n.chain_id), state, n.rpc_url or "-", str(n.block or "-"), str(n.pid or "-"))
    out.print(table)
    if not contracts:
        return
    for n in nodes:
        if n.deployment is None:
            continue
        d = n.deployment
        t = Table(title=f"{n.location}: contracts (dev account {d.dev})")
        t.add_column("name")
        t.add_column("address")
        for name, addr in d.contracts:
            t.add_row(name, addr)
        for tok in d.tokens:
            t.add_row(f"{tok.symbol} ({tok.decimals} decimals)", tok.address)
        for p in d.pools:
            fee = f"{p.fee_ppm / 10_000:g}%"
            t.add_row(f"{p.kind} {p.token0}/{p.token1} {fee}", p.address)
        out.print(t)


@app.command("up")
def up(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Start both chains (deploying on first use, reloading the cached state after), or confirm they run."""
    nodes = lab_for(ctx, quiet=as_json).up()
    if as_json:
        emit_json(_status_json(nodes))
    else:
        print_status(nodes)
    if not all(n.responding for n in nodes):
        raise typer.Exit(1)


@app.command("down")
def down(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Stop every process the lab started."""
    stopped = lab_for(ctx, quiet=True).down()
    if as_json:
        emit_json({"stopped": stopped})
    else:
        console().print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Tell whether each chain's process is alive and answering. Exits 1 if any is down."""
    nodes = lab_for(ctx, quiet=True).status()
    if as_json:
        emit_json(_status_json(nodes))
    else:
        print_status(nodes, contracts=False)
    if not all(n.responding for n in nodes):
        raise typer.Exit(1)
