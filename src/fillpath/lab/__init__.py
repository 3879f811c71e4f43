"""The local world for demos and tests: anvil chains with the real Uniswap contracts, the exchange simulator,
and every future lab venue (bridge relayer, aggregator). Production packages never import it (an import-linter
contract holds that); the composition root only reads the configuration the lab writes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fillpath.config import Config


def lab_config(data_dir: Path, **overrides: Any) -> Config:
    """The configuration the running lab wrote under ``data_dir`` (``fillpath lab up``), with ``overrides``."""
    from fillpath.config import lab_config_path, load_config_file
    from fillpath.model.errors import LabNotRunning

    path = lab_config_path(data_dir)
    if not path.is_file():
        raise LabNotRunning(f"no lab is running under {data_dir}; start it with `fillpath lab up`")
    return load_config_file(path, lab=True, **overrides)
