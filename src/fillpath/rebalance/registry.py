"""Which policies the service of a data directory schedules: ``fillpath run --policy FILE`` records their paths in
``<data dir>/schedules.json`` once it owns the directory, so ``fillpath schedule list`` and ``next`` know them."""

from __future__ import annotations

import json
from pathlib import Path

from fillpath.config import Config
from fillpath.model.errors import InvalidInput
from fillpath.paths import ensure_private_dir, write_private_file
from fillpath.rebalance.policy import Policy, load_policy

NAME = "schedules.json"


def scheduled_policies(cfg: Config, paths: list[Path]) -> list[Policy]:
    """The policies at ``paths``, each needing a ``[schedule]``; two with one name are refused (a run id is
    ``name@slot``: they would share slots)."""
    out: list[Policy] = []
    for path in paths:
        pol = load_policy(path, cfg)
        if pol.schedule is None:
            raise InvalidInput(f"{path}: schedule", "is missing: this policy has no schedule",
                               'add [schedule] with every_s = 60 or cron = "*/5 * * * *"')  # fmt: skip
        if any(p.name == pol.name for p in out):
            raise InvalidInput(f"{path}: name", f"{pol.name!r} is already the name of another policy given",
                               "give each policy its own name")  # fmt: skip
        out.append(pol)
    return out


def record(cfg: Config, paths: list[Path]) -> None:
    ensure_private_dir(cfg.data_dir)
    data = {"policies": [str(p.resolve()) for p in paths]}
    write_private_file(cfg.data_dir / NAME, json.dumps(data, indent=2) + "\n", "schedules")


def recorded(cfg: Config) -> list[Path]:
    try:
        data = json.loads((cfg.data_dir / NAME).read_text())
        return [Path(p) for p in data["policies"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
