"""The pytest plugin as users get it: registered under ``pytest11``, cheap to load, its fixtures passing a user's
test file (tests/plugin_user/) with a fork configured and skipping the fork, saying why, without one; and a soak
of the fixtures, 20 times in a row, fork start-ups included."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from fillpath.lab.chains import rpc
from fillpath.lab.manager import NodeStatus

ROOT = Path(__file__).resolve().parent.parent
USER_FILE = ROOT / "tests" / "plugin_user" / "test_user_suite.py"


def _pytest(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FILLPATH_FORK", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_the_plugin_is_registered_under_pytest11() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("fillpath") == "fillpath.lab.pytest_plugin"


def test_loading_the_plugin_imports_no_chain_library() -> None:
    code = (
        "import sys, fillpath.lab.pytest_plugin\n"
        "heavy = [m for m in ('web3', 'eth_tester', 'fillpath.lab.manager', 'ccxt', 'aiohttp') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_without_a_fork_url_the_fork_fixture_skips_with_its_reason() -> None:
    out = _pytest(str(USER_FILE), "-k", "fork")
    assert out.returncode == 0, out.stdout[-3000:]
    assert "3 skipped" in out.stdout
    assert "no chain to fork: pass --fillpath-fork-url URL" in out.stdout


# slow (~100 s: a lab, a fork of it and a pytest run inside): make test-slow; the default suite still runs the
# plugin's lab and eth-tester fixtures (tests/plugin_user) and its skip-with-reason path
@pytest.mark.slow
@pytest.mark.anvil
def test_a_users_test_file_passes_with_a_fork_of_a_running_chain(anvil_lab: dict[str, NodeStatus]) -> None:
    url = anvil_lab["lab1"].rpc_url
    assert url
    block = int(rpc.call(url, "eth_blockNumber"), 16)
    out = _pytest(str(USER_FILE), "--fillpath-fork-url", url, "--fillpath-fork-block", str(block))
    assert out.returncode == 0, out.stdout[-3000:]
    assert "10 passed" in out.stdout, out.stdout[-2000:]
    assert "skipped" not in out.stdout


SOAK = """
import pytest

MARK = "0x000000000000000000000000000000000000bEEF"


@pytest.mark.parametrize("turn", range(20))
def test_every_fixture_clean_every_time(fillpath_lab, fillpath_fork, eth_tester_chain, turn):
    for chains in (fillpath_lab, fillpath_fork):
        for chain in chains.chains.values():
            assert chain.w3.eth.get_balance(MARK) == 0
            chain.rpc("anvil_setBalance", MARK, hex(turn + 1))
    (location,) = fillpath_fork.chains
    fillpath_fork.fund({f"USDC@{location}": str(turn + 1)})
    assert eth_tester_chain.w3.eth.get_balance(MARK) == 0
    eth_tester_chain.w3.eth.send_transaction({"from": eth_tester_chain.deployment.dev, "to": MARK, "value": 1})
"""


HOLDER = "0x000000000000000000000000000000000000bEEF"


@pytest.mark.slow
@pytest.mark.anvil
@pytest.mark.timeout(1800)
def test_the_fixtures_twenty_times_in_a_row(anvil_lab: dict[str, NodeStatus], tmp_path: Path) -> None:
    """20 tests on every fixture in one session (a user's suite, in a subprocess), then 20 fork start-ups in a row,
    funding read back each time."""
    url = anvil_lab["lab1"].rpc_url
    assert url
    block = int(rpc.call(url, "eth_blockNumber"), 16)
    soak = ROOT / "tests" / "plugin_user" / f"test_soak_{os.getpid()}.py"
    soak.write_text(SOAK)
    try:
        out = _pytest(str(soak), "--fillpath-fork-url", url, "--fillpath-fork-block", str(block))
    finally:
        soak.unlink()
    assert out.returncode == 0, out.stdout[-3000:]
    assert "20 passed" in out.stdout

    # then the fork's own start-up 20 times: pinned fork, clock, trader's gas, funding by storage, read back
    from fillpath.lab.chains import fork, process, slots
    from fillpath.lab.manager import TRADER_GAS

    deployment = anvil_lab["lab1"].deployment
    assert deployment
    usdc = deployment.address("USDC")
    upstream = fork.probe_upstream(url, block, 10)
    starts = []
    for turn in range(20):
        t0 = time.perf_counter()
        ref, fork_url = fork.start(upstream, tmp_path / f"fork-{turn}.log", timeout_s=30, balance_eth=1000)
        try:
            fork.pin_time(fork_url, 12)
            rpc.call(fork_url, "anvil_setBalance", [HOLDER, hex(TRADER_GAS)])
            slots.set_token_balance(fork_url, usdc, HOLDER, 123_450_000 + turn)
            starts.append(time.perf_counter() - t0)
            assert slots.balance_of(fork_url, usdc, HOLDER) == 123_450_000 + turn
            assert int(rpc.call(fork_url, "eth_getBalance", [HOLDER, "latest"]), 16) == TRADER_GAS
        finally:
            process.stop(ref)
    assert len(starts) == 20
    print(f"fork start + funding: median {sorted(starts)[10]:.3f}s, max {max(starts):.3f}s")
