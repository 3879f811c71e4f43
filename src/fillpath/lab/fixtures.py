"""What the pytest plugin's fixtures hand a test (``fillpath.lab.pytest_plugin``): a running lab or fork, or an
in-process chain, each with the lab's deployment and a way back to a clean state.

Kept apart from the plugin module so the plugin imports nothing heavy when pytest loads it (a user's every pytest
run loads it through the ``pytest11`` entry point): this module is imported inside the fixtures only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fillpath.lab.chains import rpc
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.chains.funding import FundResult
from fillpath.lab.manager import Lab
from fillpath.model.errors import LabError

if TYPE_CHECKING:
    from web3 import Web3

    from fillpath.config import Config


@dataclass(frozen=True)
class NodeChain:
    """One anvil chain of a lab or fork: its URL, its deployment, and snapshot/revert."""

    location: str
    chain_id: int
    rpc_url: str
    deployment: LabDeployment

    @cached_property
    def w3(self) -> Web3:
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))

    def address(self, name: str) -> str:
        """A deployed contract by name (``FillpathExecutor``) or a token by symbol (``USDC``)."""
        return self.deployment.address(name)

    def rpc(self, method: str, *params: Any) -> Any:
        return rpc.call(self.rpc_url, method, list(params), timeout=30)

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        if self.rpc("evm_revert", snapshot_id) is not True:
            raise LabError(f"{self.location}: evm_revert({snapshot_id}) was refused: the chain is not clean")


@dataclass(frozen=True)
class LabChains:
    """A running lab (``fillpath_lab``) or fork (``fillpath_fork``) under its own data directory."""

    lab: Lab
    data_dir: Path
    chains: Mapping[str, NodeChain]
    fork: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, lab: Lab, data_dir: Path) -> LabChains:
        chains = {
            n.location: NodeChain(n.location, n.chain_id, n.rpc_url, n.deployment)
            for n in lab.status()
            if n.rpc_url and n.deployment is not None and n.responding
        }
        fork = next((n.fork for n in lab.status() if n.fork), None)
        return cls(lab, data_dir, chains, fork)

    def __getitem__(self, location: str) -> NodeChain:
        try:
            return self.chains[location]
        except KeyError:
            raise KeyError(f"no chain {location!r} here; there is {', '.join(self.chains)}") from None

    @property
    def trader(self) -> str:
        """The account the lab trades as (``fillpath swap --execute`` and the client sign with it)."""
        address = self.lab.trader_address()
        assert address is not None
        return address

    def fund(self, targets: Mapping[str, str | int | Decimal]) -> list[FundResult]:
        """Set the trader's balances exactly (``{"WETH@lab1": "1500"}``); on a fork by storage writes, read back."""
        return self.lab.fund({k: str(v) for k, v in targets.items()})

    def config(self, **overrides: Any) -> Config:
        """The running lab's configuration, as every fillpath command reads it (``overrides``: top-level keys)."""
        from fillpath.config import lab_config_path, load_config_file

        path = lab_config_path(self.data_dir)
        if not path.is_file():
            raise LabError(f"no lab is running under {self.data_dir}: its configuration {path} is gone")
        return load_config_file(path, lab=True, **overrides)

    @contextmanager
    def clean(self) -> Iterator[LabChains]:
        """Every chain back to this moment afterwards (``evm_snapshot`` / ``evm_revert``)."""
        snaps = {loc: c.snapshot() for loc, c in self.chains.items()}
        try:
            yield self
        finally:
            for loc, snap in snaps.items():
                self.chains[loc].revert(snap)


@dataclass
class TesterChain:
    """lab1's contracts and pools (the light spec) on an in-process py-evm chain: no node, no port."""

    w3: Web3
    deployment: LabDeployment
    backend: Any = field(repr=False)

    def address(self, name: str) -> str:
        return self.deployment.address(name)

    @contextmanager
    def clean(self) -> Iterator[TesterChain]:
        snap = self.backend.take_snapshot()
        try:
            yield self
        finally:
            self.backend.revert_to_snapshot(snap)


def start_tester_chain(cache_dir: Path | None = None) -> TesterChain:
    """lab1's light spec on a fresh eth-tester chain, its deployed state loaded from the lab cache (~10 ms) when one
    is there for this code and these artifacts, else deployed (~14 s of CPU in py-evm) and stored for next time."""
    from fillpath.lab.chains import tester_state
    from fillpath.lab.chains.spec import lab_specs
    from fillpath.lab.manager import default_cache_dir

    lab = tester_state.start(lab_specs("lite")[0], cache_dir or default_cache_dir())
    return TesterChain(lab.w3, lab.deployment, lab.tester)
