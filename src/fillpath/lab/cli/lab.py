"""``fillpath lab up | down | status | fund``: the local chains with the real Uniswap contracts, the exchange
simulators (labex in Binance's API, labokx in OKX's), and the trader."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json, err_console
from fillpath.lab.chains.fork import DEFAULT_TIMEOUT_S, ForkSettings
from fillpath.lab.chains.funding import parse_targets, plain
from fillpath.lab.manager import ExchangeStatus, Lab, NodeStatus
from fillpath.model.errors import InvalidInput, LabError
from fillpath.model.events import VenueHalted

app = typer.Typer(
    help="Run the local lab: two anvil chains with the real Uniswap contracts and two simulated exchanges.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def lab_for(ctx: typer.Context, *, quiet: bool = False, fork: ForkSettings | None = None) -> Lab:
    cfg = cli_context(ctx).config()
    err = err_console()
    log = (lambda _m: None) if quiet else (lambda m: err.print(f"[dim]{m}[/dim]"))
    return Lab(cfg.data_dir, log=log, fork=fork)


def _fork_settings(
    ctx: typer.Context,
    urls: list[str],
    block: int | None,
    timeout: float | None,
    state: Path | None,
    chains_only: bool = False,
) -> ForkSettings | None:
    """The command line's fork, else the configuration's ``[fork]``, else none (fresh chains)."""
    cfg = cli_context(ctx).config().fork
    if not urls:
        if block is not None or state is not None:
            raise InvalidInput("--fork-block", "needs --fork-url", "give the URL of the chain to fork")
        if cfg is None:
            return None
        return ForkSettings(cfg.url, cfg.block, timeout or cfg.timeout_s, cfg.state, cfg.venues and not chains_only)
    return ForkSettings(tuple(urls), block, timeout or DEFAULT_TIMEOUT_S, state, not chains_only)


def _status_json(lab: Lab, nodes: list[NodeStatus], exs: list[ExchangeStatus]) -> dict[str, object]:
    address = lab.trader_address()
    trader = {"address": address, "keystore": str(lab.trader_keystore)} if address else None
    url = lab.aggregator_url()
    aggregator = {"name": "labagg", "api": "0x-v2", "url": url, "responding": url is not None}
    locations = {**{n.location: n.to_json() for n in nodes}, **{ex.location: ex.to_json() for ex in exs}}
    return {"locations": locations, "trader": trader, "relayer": lab.relayer_status(), "aggregator": aggregator}


def print_status(lab: Lab, nodes: list[NodeStatus], exs: list[ExchangeStatus], *, contracts: bool = True) -> None:
    out = console()
    table = Table(title="lab", show_lines=False)
    for col in ("location", "kind", "state", "url", "block", "pid"):
        table.add_column(col)
    for n in nodes:
        state = "[green]up[/green]" if n.responding else f"[red]down[/red] ({n.problem})"
        kind = f"evm {n.chain_id}" + (f" (fork at {n.fork['block']})" if n.fork else "")
        table.add_row(n.location, kind, state, n.rpc_url or "-", str(n.block or "-"), str(n.pid or "-"))
    for ex in exs:
        ex_state = "[green]up[/green]" if ex.responding else f"[red]down[/red] ({ex.problem})"
        table.add_row(ex.location, f"cex ({ex.dialect} API)", ex_state, ex.url or "-", "-", str(ex.pid or "-"))
    rel = lab.relayer_status()
    rel_state = "[green]up[/green]" if rel["responding"] else f"[red]down[/red] ({rel['problem']})"
    table.add_row("relayer", "bridge lab1 ⇄ lab2", rel_state, rel["url"] or "-", "-", str(rel["pid"] or "-"))
    agg_url = lab.aggregator_url()
    table.add_row("labagg", "aggregator (0x v2 API)", "[green]up[/green]" if agg_url else "[red]down[/red]",
                  agg_url or "-", "-", "-")  # fmt: skip
    out.print(table)
    address = lab.trader_address()
    accounts = ", ".join(ex.location for ex in exs)
    out.print(
        f"trader {address} on every chain, the lab's account on {accounts} (keystore {lab.trader_keystore})"
        if address
        else "trader: none yet (`fillpath lab up` creates it)"
    )
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
            t.add_row(f"{p.kind} {'/'.join(p.symbols())} {fee}", p.address)
        for p in d.aggregator_pools:
            t.add_row(f"LabSwap (aggregator only) {'/'.join(p.symbols())} 0.3%", p.address)
        out.print(t)


@app.command("up")
def up(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    fork_url: Annotated[
        list[str] | None,
        typer.Option(
            "--fork-url",
            help="Fork this chain instead of starting a fresh one (repeat: one per chain).",
            envvar="FILLPATH_FORK_URL",
        ),
    ] = None,
    fork_block: Annotated[
        int | None,
        typer.Option(
            "--fork-block",
            help="Pin the fork(s) at this block (default: the head).",
            envvar="FILLPATH_FORK_BLOCK",
            min=0,
        ),
    ] = None,
    fork_timeout: Annotated[
        float | None, typer.Option("--fork-timeout", help="Seconds a fork may take to answer (default 30).", min=0.1)
    ] = None,
    fork_state: Annotated[
        Path | None, typer.Option("--fork-state", help="Load this `fillpath lab dump` file on top of the fork(s).")
    ] = None,
    chains_only: Annotated[
        bool, typer.Option("--chains-only", help="On a fork: start the forked chains only (no exchange simulators).")
    ] = False,
) -> None:
    """Start both chains (deploying on first use, reloading the cached state after), or confirm they run; with
    --fork-url, anvil forks of those chains at a pinned block instead (docs/fork.md)."""
    fork = _fork_settings(ctx, fork_url or [], fork_block, fork_timeout, fork_state, chains_only)
    lab = lab_for(ctx, quiet=as_json, fork=fork)
    nodes = lab.up()
    exs = lab.exchange_statuses()
    if as_json:
        emit_json(_status_json(lab, nodes, exs))
    else:
        print_status(lab, nodes, exs)
    _down_is_an_error(nodes, exs)


def _down_is_an_error(nodes: list[NodeStatus], exs: list[ExchangeStatus]) -> None:
    """After the table: a location that does not answer is a failure, said on stderr in one line (exit 1)."""
    down = [n.location for n in nodes if not n.responding] + [ex.location for ex in exs if not ex.responding]
    if down:
        raise LabError(f"{', '.join(down)} not answering: start the lab with `fillpath lab up` (see the table above)")


@app.command("dump")
def dump(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the fork state (JSON).")],
) -> None:
    """Save the running fork's state (funded balances included) for `lab up --fork-state PATH`."""
    written = lab_for(ctx, quiet=True).dump_fork_state(path)
    console().print(f"fork state written to {written}")


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
    lab = lab_for(ctx, quiet=True)
    nodes, exs = lab.status(), lab.exchange_statuses()
    if as_json:
        emit_json(_status_json(lab, nodes, exs))
    else:
        print_status(lab, nodes, exs, contracts=False)
    _down_is_an_error(nodes, exs)


@app.command("fund")
def fund(
    ctx: typer.Context,
    targets: Annotated[
        list[str], typer.Argument(help="ASSET=AMOUNT, e.g. WETH@lab1=1500 ETH@labex=500 ETH@labokx=500.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Set the lab trader's balances to exactly these amounts (human units); other balances stay as they are."""
    from fillpath.cli.books import reconcile_locations  # ccxt and the chain readers: only to book what moved

    wanted = parse_targets(targets)
    results = lab_for(ctx, quiet=True).fund(wanted)
    passes = asyncio.run(reconcile_locations(cli_context(ctx).config(), {r.asset.location for r in results}))
    flows = [f for p in passes for f in p.flows]
    halted = [e for p in passes for e in p.events if isinstance(e, VenueHalted)]
    if as_json:
        emit_json({
            "funded": [r.to_json() for r in results],
            "journaled": [{"asset": str(f.asset), "delta": str(f.delta), "evidence_id": f.evidence_id,
                           "evidence": f.evidence} for f in flows],
            "halted": [{"venue": e.venue, "reason": e.reason} for e in halted],
        })  # fmt: skip
        return
    t = Table(title="lab trader funded")
    for col in ("asset", "before", "after"):
        t.add_column(col, justify="left" if col == "asset" else "right")
    for r in results:
        t.add_row(str(r.asset), plain(r.before), plain(r.after))
    console().print(t)
    if flows:
        console().print(f"journaled {len(flows)} external flow(s) with their evidence (`fillpath events --kind "
                        "external.flow`)")  # fmt: skip
    for e in halted:
        err_console().print(f"[red]halted[/red] {e.venue}: {e.reason}")
