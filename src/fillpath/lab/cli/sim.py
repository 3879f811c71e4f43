"""``fillpath sim serve``: the local exchange simulator, speaking one exchange's API (``--dialect``: Binance spot,
the default, or OKX v5).

The account's secret and passphrase come from an environment variable the command names or a 0600 file
(``--api-secret-env``/``--api-secret-file``, ``--passphrase-env``/``--passphrase-file``), or the ``--config`` file
(mode 0600 in the lab): never from the command line, where other users of the machine can read them."""

from __future__ import annotations

import asyncio
import dataclasses
import os
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
    host: Annotated[
        str, typer.Option(help="Address to listen on: loopback, unless --allow-remote and a token are given.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 0,
    profile: Annotated[
        list[str] | None,
        typer.Option("--profile", help="Fault profile, NAME or NAME:key=value,... (repeatable)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the random walk and of the faults.")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key to fund.")] = None,
    api_secret_env: Annotated[
        str | None,
        typer.Option(
            "--api-secret-env", help="Name of the environment variable holding its secret (never the secret)."
        ),
    ] = None,
    api_secret_file: Annotated[
        Path | None, typer.Option("--api-secret-file", help="A file (mode 0600) holding its secret.")
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="Listen on a non-loopback address; needs a token (--token-env/-file)."),
    ] = False,
    token_env: Annotated[
        str | None,
        typer.Option("--token-env", help="Environment variable holding the token remote clients must send."),
    ] = None,
    token_file: Annotated[Path | None, typer.Option("--token-file", help="A file (mode 0600) holding it.")] = None,
    passphrase_env: Annotated[
        str | None,
        typer.Option("--passphrase-env", help="Environment variable holding its API passphrase (OKX asks for one)."),
    ] = None,
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="A file (mode 0600) holding its API passphrase.")
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
    from fillpath.model.validate import bounded_number

    api_secret = secret_from("--api-secret-env", api_secret_env, "--api-secret-file", api_secret_file)
    passphrase = secret_from("--passphrase-env", passphrase_env, "--passphrase-file", passphrase_file)
    token = secret_from("--token-env", token_env, "--token-file", token_file)
    check_bind(host, allow_remote=allow_remote, token=token)
    cfg = load_sim_config(config) if config else SimConfig()
    if dialect is not None:
        cfg = dataclasses.replace(cfg, dialect=dialect)
    if seed is not None:
        cfg = dataclasses.replace(cfg, seed=seed)
    if walk_interval is not None:
        interval = bounded_number(walk_interval, "--walk-interval", low=0, high=3600, unit=" seconds")
        cfg = dataclasses.replace(cfg, walk_interval=interval)
    if (api_key is None) != (api_secret is None):
        raise InvalidInput("--api-key", "give both --api-key and its secret (--api-secret-env or -file), or neither")
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
        server = SimServer(cfg, host=host, port=port, token=token)
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


def secret_from(env_flag: str, env: str | None, file_flag: str, file: Path | None) -> str | None:
    """A secret from an environment variable (named, never given) or a 0600 file: never from the command line,
    where ``ps`` and the shell's history show it."""
    from fillpath.model.errors import InvalidInput
    from fillpath.paths import read_private_file

    if env is not None and file is not None:
        raise InvalidInput(env_flag, f"give {env_flag} or {file_flag}, not both")
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise InvalidInput(f"${env}", "is not set", f"export {env} with the secret")
        return value
    if file is not None:
        value = read_private_file(file, file_flag)
        if not value:
            raise InvalidInput(file_flag, f"{file} is empty", "write the secret in it")
        return value
    return None


def check_bind(host: str, *, allow_remote: bool, token: str | None) -> None:
    """Loopback only, unless the operator says otherwise and sets a token: the simulator holds funded test
    accounts, and a bind to 0.0.0.0 once needed no more than a typo."""
    import ipaddress

    from fillpath.model.errors import InvalidInput

    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise InvalidInput("--host", f"{host!r} is not an IP address", "e.g. 127.0.0.1") from None
    if address.is_loopback:
        return
    if not allow_remote:
        raise InvalidInput(
            "--host", f"{host} is not a loopback address", "add --allow-remote (and a token) to expose it"
        )
    if not token or len(token) < 16:
        raise InvalidInput(
            "--token-env",
            "a non-loopback bind needs a token of 16 characters or more",
            "set --token-env or --token-file",
        )
