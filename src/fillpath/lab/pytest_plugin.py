"""fillpath's pytest plugin (entry point ``pytest11``): fixtures for a user's own test suite (docs/fork.md).

- ``fillpath_lab``: the lab (two anvil chains with the real Uniswap contracts, the exchange simulators), started
  once per session in a temporary data directory; every test starts from the same chain state.
- ``fillpath_fork``: anvil forks of ``--fillpath-fork-url`` (or ``FILLPATH_FORK_URL``, or the ini option) at
  ``--fillpath-fork-block``; skipped, with the reason shown, when no URL is configured.
- ``eth_tester_chain``: lab1's contracts on an in-process py-evm chain (no node at all).
- ``client``: the public Python API (``fillpath.Client``) bound to the fork when the test uses ``fillpath_fork``,
  else to the lab, with a journal of its own per test.

Each test is isolated by ``evm_snapshot`` / ``evm_revert`` (eth-tester: its own snapshots). This module imports
only pytest: everything else is imported inside the fixtures, so loading the plugin costs a pytest run nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fillpath.lab.chains.fork import ForkSettings
    from fillpath.lab.fixtures import LabChains, TesterChain

FORK_URL_ENV = "FILLPATH_FORK_URL"
FORK_BLOCK_ENV = "FILLPATH_FORK_BLOCK"
FORK_STATE_ENV = "FILLPATH_FORK_STATE"
NO_FORK = (
    "no chain to fork: pass --fillpath-fork-url URL (and --fillpath-fork-block N), set FILLPATH_FORK_URL, or set "
    "fillpath_fork_url in the pytest ini options"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fillpath", "fillpath's lab and fork fixtures")
    group.addoption("--fillpath-fork-url", default=None, help="JSON-RPC URL of the chain fillpath_fork forks")
    group.addoption("--fillpath-fork-block", default=None, help="pin fillpath_fork at this block (default: the head)")
    group.addoption("--fillpath-fork-state", default=None, help="a `fillpath lab dump` file loaded on the fork")
    group.addoption(
        "--fillpath-fork-venues",
        action="store_true",
        help="fillpath_fork also starts the lab's exchange simulators and aggregator (default: the forked chains only)",
    )
    parser.addini("fillpath_fork_url", "JSON-RPC URL of the chain fillpath_fork forks", default="")
    parser.addini("fillpath_fork_block", "pin fillpath_fork at this block", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fillpath_fork: the test forks a real chain (skipped without a fork URL)")


def _setting(config: pytest.Config, option: str, ini: str | None, env: str) -> str | None:
    value = config.getoption(option) or (config.getini(ini) if ini else "") or os.environ.get(env, "")
    return str(value) or None


def _require_anvil() -> None:
    from fillpath import paths
    from fillpath.model.errors import LabError

    try:
        paths.binary("anvil")
    except LabError as exc:
        pytest.skip(f"no anvil here: {exc}")


def _lab_extra() -> None:
    try:
        import eth_tester  # noqa: F401  (the lab extra's marker)
    except ImportError:
        pytest.skip("fillpath's lab is not installed: pip install 'fillpath[lab]'")


@pytest.fixture(scope="session")
def _fillpath_lab_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabChains]:
    _lab_extra()
    _require_anvil()
    yield from _lab_up(tmp_path_factory.mktemp("fillpath-lab"), None)


def _lab_up(data_dir: Path, fork: ForkSettings | None) -> Iterator[LabChains]:
    """A lab in ``data_dir`` for the session: up before the first test, down after the last."""
    from fillpath.lab.fixtures import LabChains
    from fillpath.lab.manager import Lab

    lab = Lab(data_dir, fork=fork)
    try:
        lab.up()
        yield LabChains.of(lab, data_dir)
    finally:
        lab.down()


@pytest.fixture
def fillpath_lab(_fillpath_lab_session: LabChains) -> Iterator[LabChains]:
    """The session's lab, every chain reverted to where it was after the test."""
    with _fillpath_lab_session.clean() as lab:
        yield lab


@pytest.fixture(scope="session")
def _fillpath_fork_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabChains]:
    config = request.config
    url = _setting(config, "--fillpath-fork-url", "fillpath_fork_url", FORK_URL_ENV)
    if url is None:
        pytest.skip(NO_FORK)
    block_text = _setting(config, "--fillpath-fork-block", "fillpath_fork_block", FORK_BLOCK_ENV)
    state = _setting(config, "--fillpath-fork-state", None, FORK_STATE_ENV)
    _lab_extra()
    _require_anvil()
    from fillpath.lab.chains.fork import ForkSettings
    from fillpath.model.errors import InvalidInput

    try:
        block = None if block_text is None else int(block_text)
    except ValueError:
        raise InvalidInput(
            "--fillpath-fork-block", f"{block_text!r} is not a block number", "give an integer"
        ) from None
    venues = bool(config.getoption("--fillpath-fork-venues"))
    settings = ForkSettings((url,), block, state=Path(state) if state else None, venues=venues)
    yield from _lab_up(tmp_path_factory.mktemp("fillpath-fork"), settings)


@pytest.fixture
def fillpath_fork(_fillpath_fork_session: LabChains) -> Iterator[LabChains]:
    """The session's fork, every chain reverted to where it was after the test."""
    with _fillpath_fork_session.clean() as fork:
        yield fork


@pytest.fixture(scope="session")
def _eth_tester_session() -> TesterChain:
    _lab_extra()
    from fillpath.lab.fixtures import start_tester_chain

    return start_tester_chain()


@pytest.fixture
def eth_tester_chain(_eth_tester_session: TesterChain) -> Iterator[TesterChain]:
    """lab1's contracts on an in-process chain, reverted after the test."""
    with _eth_tester_session.clean() as chain:
        yield chain


@pytest.fixture
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """``fillpath.Client`` on the fork when the test uses ``fillpath_fork``, else on the lab; its own journal."""
    import fillpath

    Client = getattr(fillpath, "Client", None)  # noqa: N806  (the class, built by issue #21)
    if Client is None:
        pytest.fail(
            "the client fixture needs fillpath.Client (the public Python API), which this fillpath does not have: "
            "upgrade fillpath, or use fillpath_lab.config() with the CLI's functions",
            pytrace=False,
        )
    name = "fillpath_fork" if "fillpath_fork" in request.fixturenames else "fillpath_lab"
    chains: LabChains = request.getfixturevalue(name)
    config = chains.config(data_dir=tmp_path / "fillpath")
    with Client(config) as api:
        yield api
