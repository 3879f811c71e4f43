"""``fillpath keys new | import | list``: encrypted V3 keystores under the data directory.

A key or passphrase never comes from a command-line argument (it would sit in shell history and ``ps``): it
comes from a hidden prompt or from an environment variable whose *name* is given.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from fillpath.chains.accounts import Keystore
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.model.errors import InvalidInput
from fillpath.paths import ensure_private_dir

app = typer.Typer(help="Manage signing keys (encrypted V3 keystores).", no_args_is_help=True)

PassEnv = Annotated[
    str | None, typer.Option("--passphrase-env", help="Name of the environment variable holding the passphrase.")
]


def keystore(ctx: typer.Context, *, create: bool = False) -> Keystore:
    """The data directory's keystores; ``create``: the directory is made (or narrowed to) 0700 first."""
    data_dir = cli_context(ctx).config().data_dir
    if create or data_dir.exists():
        ensure_private_dir(data_dir)
    return Keystore(data_dir / "keys")


def _secret_from_env(var: str, what: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise InvalidInput(f"${var}", "is not set", f"export {var} with the {what}")
    return value


def _passphrase(var: str | None, *, confirm: bool) -> str:
    if var:
        return _secret_from_env(var, "passphrase")
    if os.environ.get("CI") or not os.isatty(0):
        raise InvalidInput("--passphrase-env", "no terminal to prompt on", "name the variable holding the passphrase")
    return str(typer.prompt("passphrase", hide_input=True, confirmation_prompt=confirm))


@app.command("new")
def new(ctx: typer.Context, name: str, passphrase_env: PassEnv = None) -> None:
    """Create a new account and store it encrypted (file mode 0600)."""
    passphrase = _passphrase(passphrase_env, confirm=True)
    entry = keystore(ctx, create=True).create(name, passphrase)
    console().print(f"created {entry.name}: {entry.address} ({entry.path})")


@app.command("import")
def import_(
    ctx: typer.Context,
    name: str,
    from_env: Annotated[
        str | None, typer.Option("--from-env", help="Name of the environment variable holding the private key.")
    ] = None,
    passphrase_env: PassEnv = None,
) -> None:
    """Import a private key (from a hidden prompt, or an environment variable) into an encrypted keystore."""
    if from_env:
        key = _secret_from_env(from_env, "private key")
    elif os.environ.get("CI") or not os.isatty(0):
        raise InvalidInput("--from-env", "no terminal to prompt on", "name the variable holding the private key")
    else:
        key = str(typer.prompt("private key", hide_input=True))
    passphrase = _passphrase(passphrase_env, confirm=True)
    entry = keystore(ctx, create=True).import_key(name, key, passphrase)
    console().print(f"imported {entry.name}: {entry.address} ({entry.path})")


@app.command("list")
def list_(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List stored accounts: name, address, file. Never a key."""
    entries = keystore(ctx).list()
    if as_json:
        emit_json([{"name": e.name, "address": e.address, "path": str(e.path)} for e in entries])
        return
    t = Table(title="keys")
    for col in ("name", "address", "keystore"):
        t.add_column(col)
    for e in entries:
        t.add_row(e.name, e.address, str(e.path))
    console().print(t if entries else "no keys yet: `fillpath keys new NAME`")
