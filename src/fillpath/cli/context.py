"""What every command receives: global options, and lazy access to the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from fillpath.client import Client
    from fillpath.config import Config
    from fillpath.service.client import ServiceClient


@dataclass
class CliContext:
    config_path: Path | None = None
    debug: bool = False
    service_url: str | None = None
    """``--service URL`` (or ``auto``: the one running for the data directory); None: work on the store directly."""
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            from fillpath.config import load_config  # pydantic: only for commands that read the config

            self._config = load_config(self.config_path)
        return self._config

    def client(self, *, config: bool = True) -> Client:
        """The public client on this command's configuration (``config=False``: resolved only if a call needs it,
        so routing on a snapshot file never reads one)."""
        from fillpath.client import Client

        return Client(self.config() if config else None)

    def service(self) -> ServiceClient | None:
        """The running service to ask instead of the store and the venues (``--service``), if one was named."""
        if self.service_url is None:
            return None
        import os

        from fillpath.model.errors import FillpathError
        from fillpath.service.client import ServiceClient
        from fillpath.service.instance import read_info

        cfg = self.config()
        url = self.service_url
        if url == "auto":
            info = read_info(cfg.data_dir)
            if info is None:
                raise FillpathError(f"no `fillpath run` serves {cfg.data_dir}: start one, or drop --service")
            url = info.url
        env = cfg.service.token_env
        return ServiceClient(url, os.environ.get(env) if env else None)


def cli_context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):  # a command invoked without the root callback (tests)
        obj = CliContext()
        ctx.find_root().obj = obj
    return obj
