"""What every command receives: global options, and lazy access to the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from fillpath.config import Config


@dataclass
class CliContext:
    config_path: Path | None = None
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            from fillpath.config import load_config  # pydantic: only for commands that read the config

            self._config = load_config(self.config_path)
        return self._config


def cli_context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):  # a command invoked without the root callback (tests)
        obj = CliContext()
        ctx.find_root().obj = obj
    return obj
