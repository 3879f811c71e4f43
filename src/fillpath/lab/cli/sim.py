"""``fillpath sim serve``: the local exchange simulator, speaking one exchange's API (``--dialect``: Binance spot,
the default, or OKX v5).

The account's secrets may come from the environment (``FILLPATH_SIM_API_KEY``, ``FILLPATH_SIM_API_SECRET``,
``FILLPATH_SIM_PASSPHRASE``) or the ``--config`` file (mode 0600 in the lab) instead of the command line, where
other users of the machine can read them; the flags stay for compatibility."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Run the local exchange simulator (one venue, in one API dialect).\n\nDialects: binance (spot, the default) "
    "and okx (v5).",
    no_args_is_help=True,
)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 0,
    profile: Annotated[
        list[str] | None,
        typer.Option("--profile", help="Fault profile, NAME or NAME:key=value,... (repeatable)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the random walk and of the faults.")] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", envvar="FILLPATH_SIM_API_KEY", help="API key to fund.")
    ] = None,
    api_secret: Annotated[
        str | None, typer.Option("--api-secret", envvar="FILLPATH_SIM_API_SECRET", help="Its secret.")
    ] = None,
    passphrase: Annotated[
        str | None,
        typer.Option("--passphrase", envvar="FILLPATH_SIM_PASSPHRASE", help="Its API passphrase (OKX asks for one)."),
    ] = None,
    dialect: Annotated[
        str | None, typer.Option("--dialect", help="The exchange API to speak: binance (default) or okx.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Simulator config (TOML or JSON).")] = None,
    walk_interval: Annotated[
        float | None,
        typer.Option("--walk-interval", help="Seconds between random-walk steps (0: only on request)."),
    ] = None,
) -> None:
    """Serve until interrupted; prints the URL it listens on first."""
    from fillpath.lab.exchange.config import AccountSpec, SimConfig, load_sim_config
    from fillpath.lab.exchange.faults import parse_profile
    from fillpath.lab.exchange.runner import SimServer
    from fillpath.model.errors import InvalidInput

    cfg = load_sim_config(config) if config else SimConfig()
    if dialect is not None:
        cfg = dataclasses.replace(cfg, dialect=dialect)
    if seed is not None:
        cfg = dataclasses.replace(cfg, seed=seed)
    if walk_interval is not None:
        cfg = dataclasses.replace(cfg, walk_interval=walk_interval)
    if (api_key is None) != (api_secret is None):
        raise InvalidInput("--api-key", "give both --api-key and --api-secret, or neither")
    if api_key is not None and api_secret is not None:
        first = cfg.accounts[0] if cfg.accounts else AccountSpec("", "", {})
        account = AccountSpec(api_key, api_secret, first.balances, passphrase or first.passphrase)
        cfg = dataclasses.replace(cfg, accounts=(account, *cfg.accounts[1:]))
    elif passphrase is not None and cfg.accounts:
        cfg = dataclasses.replace(
            cfg, accounts=(dataclasses.replace(cfg.accounts[0], passphrase=passphrase), *cfg.accounts[1:])
        )
    if profile:
        settings = [parse_profile(p) for p in profile]
        cfg = dataclasses.replace(cfg, faults={s.name: dict(s.params) for s in settings})

    async def main() -> None:
        server = SimServer(cfg, host=host, port=port)
        url = await server.start()
        key = cfg.accounts[0].api_key if cfg.accounts else "-"
        typer.echo(f"{url} dialect={cfg.dialect} seed={cfg.seed} key={key} profiles={','.join(cfg.faults) or '-'}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(main())
