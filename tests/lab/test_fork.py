"""Fork mode, proven offline: anvil forking a running lab chain at a pinned block (docs/fork.md).

lab1 as the lab deploys it (an anvil of the module's own, loaded from the lab's cache) is the "real network" here:
its state at the pinned block is on the fork, what happens on either side after that block is not on the other, the
demo's swap on the fork realizes what the router expected, and a reorg on the fork is seen by the tracker.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fillpath.chains import transactions as txs
from fillpath.chains.accounts import Signer
from fillpath.chains.fees import Fees
from fillpath.chains.rpc import RpcClient
from fillpath.chains.tracker import TrackerPolicy, TxState, TxTracker
from fillpath.lab import lab_config
from fillpath.lab.chains import fork as fork_mode
from fillpath.lab.chains import process, rpc, slots
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.manager import Lab, NodeStatus
from fillpath.model.errors import InvalidInput, LabError
from fillpath.state.store import Store
from tests.chains.helpers import run
from tests.cli.failures import completed

# one worker for the module under `--dist loadgroup`: its fork lab (~20 s to start) is a module fixture, started
# once per worker that runs any of its tests
pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("fork")]

MARK = "0x00000000000000000000000000000000000f0f0f"
UPSTREAM_TRADER = "0x000000000000000000000000000000000000bEEF"  # gassed by the upstream's start; nobody trades there


def _balance(url: str, who: str, block: str = "latest") -> int:
    return int(rpc.call(url, "eth_getBalance", [who, block]), 16)


def _send(url: str, sender: str, to: str, value: int) -> None:
    tx_hash = rpc.call(url, "eth_sendTransaction", [{"from": sender, "to": to, "value": hex(value)}])
    for _ in range(200):
        if rpc.call(url, "eth_getTransactionReceipt", [tx_hash]) is not None:
            return
        time.sleep(0.01)
    raise AssertionError(f"{tx_hash} was not mined")


def _head(url: str) -> int:
    return int(rpc.call(url, "eth_blockNumber"), 16)


@pytest.fixture(scope="module")
def upstream(anvil_lab: dict[str, NodeStatus], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """lab1 as the lab deploys it, on an anvil of the module's own loaded from the lab's cache (the session lab built
    it): nothing another test did on the session's lab1 (its pools, the trader's holdings) reaches the fork. A
    marked balance at block B (pinned) and another value after it, each by a transaction (anvil's
    ``anvil_setBalance`` rewrites history too)."""
    lab = Lab(tmp_path_factory.mktemp("upstream"))
    rec = lab._start(lab.specs[0], UPSTREAM_TRADER)  # the chain alone (~1 s), not the lab's venues
    try:
        url, dep = rec["rpc_url"], LabDeployment.from_json(rec["deployment"])
        _send(url, dep.dev, MARK, 111)
        block = _head(url)
        _send(url, dep.dev, MARK, 111)
        assert _balance(url, MARK) == 222
        assert _balance(url, MARK, hex(block)) == 111
        yield url, block
    finally:
        process.stop(process.ProcessRef.from_json(rec["process"]))


@pytest.fixture(scope="module")
def fork_lab(upstream: tuple[str, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    """``fillpath lab up --fork-url URL --fork-block N``, the command itself, in a data directory of its own."""
    url, block = upstream
    data_dir = tmp_path_factory.mktemp("fork-lab")
    env = {**os.environ, "FILLPATH_DATA_DIR": str(data_dir)}
    env.pop("FILLPATH_CONFIG", None)
    argv = [sys.executable, "-m", "fillpath", "lab", "up", "--fork-url", url, "--fork-block", str(block), "--json"]
    lab = Lab(data_dir)  # the running fork, as `lab status` sees it
    try:
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        shown = json.loads(out.stdout)["locations"]["lab1"]
        assert shown["fork"] == {"url": url, "block": block}
        assert shown["responding"]
        yield lab, data_dir
    finally:
        lab.down()


def _fork_url(lab: Lab) -> str:
    (node,) = lab.status()
    assert node.rpc_url
    return node.rpc_url


def test_the_fork_has_the_state_at_the_block_and_diverges_after(
    upstream: tuple[str, int], fork_lab: tuple[Lab, Path]
) -> None:
    url, block = upstream
    lab, _ = fork_lab
    (node,) = lab.status()
    assert node.location == "lab1"
    assert node.fork == {"url": url, "block": block}
    fork_url = _fork_url(lab)
    assert _balance(fork_url, MARK) == 111  # the upstream's state at the pinned block
    assert _balance(url, MARK) == 222  # ... not what the upstream did after it
    snap = rpc.call(fork_url, "evm_snapshot")
    try:
        rpc.call(fork_url, "anvil_setBalance", [MARK, hex(333)])
        rpc.call(fork_url, "evm_mine")
        assert _balance(fork_url, MARK) == 333
        assert _balance(url, MARK) == 222  # the fork's own blocks never reach the upstream
    finally:
        rpc.call(fork_url, "evm_revert", [snap])
    # the pools the lab deployed are there, and the trader got gas on the fork
    dep = node.deployment
    assert dep is not None
    assert rpc.call(fork_url, "eth_getCode", [dep.address("FillpathExecutor"), "latest"]) not in (None, "0x")
    address = lab.trader_address()
    assert address
    assert _balance(fork_url, address) >= 10**18


def test_funding_on_a_fork_writes_storage_and_reads_back(fork_lab: tuple[Lab, Path]) -> None:
    lab, _ = fork_lab
    fork_url = _fork_url(lab)
    snap = rpc.call(fork_url, "evm_snapshot")
    try:
        supply_before = _total_supply(fork_url, lab, "USDC")
        results = {str(r.asset): r for r in lab.fund({"USDC@lab1": "1234.5", "WETH@lab1": "7", "ETH@lab1": "3"})}
        assert str(results["USDC@lab1"].after) == "1234.500000"
        trader = lab.trader_address()
        assert trader
        dep = lab.deployments()["lab1"]
        assert slots.balance_of(fork_url, dep.address("USDC"), trader) == 1_234_500_000
        assert slots.balance_of(fork_url, dep.address("WETH"), trader) == 7 * 10**18
        assert _balance(fork_url, trader) == 3 * 10**18
        # by a storage write, not a mint: the token's supply did not move
        assert _total_supply(fork_url, lab, "USDC") == supply_before
    finally:
        rpc.call(fork_url, "evm_revert", [snap])


def _total_supply(url: str, lab: Lab, symbol: str) -> int:
    from fillpath.chains.abi import fn

    token = lab.deployments()["lab1"].address(symbol)
    raw = rpc.call(url, "eth_call", [{"to": token, "data": "0x" + fn("ERC20", "totalSupply").encode().hex()}, "latest"])
    return int(raw, 16)


def test_a_token_without_a_balance_mapping_fails_loudly(fork_lab: tuple[Lab, Path]) -> None:
    lab, _ = fork_lab
    dep = lab.deployments()["lab1"]
    # the V3 factory has no balanceOf at all: named, not silently unfunded
    with pytest.raises(LabError, match="balanceOf"):
        slots.set_token_balance(_fork_url(lab), dep.address("UniswapV3Factory"), MARK, 5)


def test_the_demo_swap_on_the_fork_realizes_what_was_expected(
    fork_lab: tuple[Lab, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo`'s swap (2,000 ETH from lab1 and labex into USDC), executed on the fork through the CLI."""
    lab, data_dir = fork_lab
    fork_url = _fork_url(lab)
    snap = rpc.call(fork_url, "evm_snapshot")
    monkeypatch.delenv("FILLPATH_CONFIG", raising=False)  # the lab's own configuration, from the data directory
    env = {"FILLPATH_DATA_DIR": str(data_dir)}
    try:
        lab.fund({"WETH@lab1": "1500", "ETH@labex": "500"})
        out = completed(env, "swap", "2000", "WETH@lab1,ETH@labex", "USDC", "--execute", "--json")
        assert out.returncode == 0, out.stderr[-2000:]
        result = json.loads(out.stdout)
    finally:
        rpc.call(fork_url, "evm_revert", [snap])
    assert result["status"] == "done"
    legs = result["legs"]
    assert legs
    assert all(leg["status"] == "done" for leg in legs)
    # a pool leg that spends an exact amount of what we sold pays what the router computed from the fork's
    # snapshot, to the unit (a later hop spends all that arrived, which an aggregator leg may make more than planned)
    pool = ("uniswap_v2", "uniswap_v3", "stableswap")
    exact = [leg for leg in legs if leg["venue"].split(":")[1] in pool and leg["asset_in"] == "WETH@lab1"]
    assert exact, legs
    for leg in exact:
        assert leg["realized_out"] == leg["expected_out"], leg
    assert int(result["realized_out"]) > 0


def test_a_reorg_on_the_fork_is_seen_by_the_tracker(fork_lab: tuple[Lab, Path], tmp_path: Path) -> None:
    from eth_account import Account

    lab, _ = fork_lab
    fork_url = _fork_url(lab)
    signer = Signer(Account.create())
    rpc.call(fork_url, "anvil_setBalance", [signer.address, hex(10**18)])
    fees = Fees(max_fee_per_gas=5 * 10**9, max_priority_fee_per_gas=10**9)
    tx = txs.sign(signer, 31337, 0, txs.ContractCall(signer.address, b"", what="self-transfer"), 21_000, fees)
    store = Store.open(f"sqlite:///{tmp_path / 'fp.db'}")
    snap = rpc.call(fork_url, "evm_snapshot")

    async def go() -> TxTracker:
        async with RpcClient("lab1", [fork_url]) as client:
            tracker = TxTracker(client, "lab1", store, TrackerPolicy(confirmations=3))
            tracker.track(tx)
            await txs.broadcast(client, tx)
            await _until(tracker, tx.tx_hash, TxState.INCLUDED)
            rpc.call(fork_url, "anvil_reorg", [1, []])
            await tracker.poll()  # its block left the fork's chain: reorged, pending again
            assert tracker.state(tx.tx_hash) is TxState.PENDING
            await _until(tracker, tx.tx_hash, TxState.INCLUDED)
            for _ in range(3):
                rpc.call(fork_url, "evm_mine")
            await tracker.poll()
            return tracker

    try:
        tracker = run(go())
        kinds = [r.event.kind for r in store.events()]
    finally:
        store.close()
        rpc.call(fork_url, "evm_revert", [snap])
    assert tracker.state(tx.tx_hash) is TxState.CONFIRMED
    assert kinds[:3] == ["tx.broadcast", "tx.mined", "tx.reorged"]


async def _until(tracker: TxTracker, tx_hash: str, state: TxState, polls: int = 60) -> None:
    import asyncio

    for _ in range(polls):
        await tracker.poll()
        if tracker.state(tx_hash) is state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{tx_hash} stayed {tracker.state(tx_hash)}, expected {state}")


def test_a_dumped_fork_state_reloads_on_a_new_fork(
    upstream: tuple[str, int], fork_lab: tuple[Lab, Path], tmp_path: Path
) -> None:
    url, block = upstream
    lab, _ = fork_lab
    fork_url = _fork_url(lab)
    snap = rpc.call(fork_url, "evm_snapshot")
    try:
        rpc.call(fork_url, "anvil_setBalance", [MARK, hex(444)])
        rpc.call(fork_url, "evm_mine")
        dumped = lab.dump_fork_state(tmp_path / "fork.json")
    finally:
        rpc.call(fork_url, "evm_revert", [snap])
    # a second fork of the same block, with the dump on top: the change is there without redoing it
    up = fork_mode.probe_upstream(url, block, 10.0)
    ref, url2 = fork_mode.start(up, tmp_path / "anvil.log", timeout_s=20.0, balance_eth=1000)
    try:
        from fillpath.lab.manager import load_fork_state

        t0 = time.perf_counter()
        load_fork_state(url2, dumped, "lab1")
        assert time.perf_counter() - t0 < 1.0
        assert _balance(url2, MARK) == 444
    finally:
        process.stop(ref)


# --- start-up: every wait has a deadline, every failure says what to check ------------------------------------


def test_an_upstream_that_never_answers_times_out_with_a_clear_message() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        held: list[Any] = []
        stop = threading.Event()

        def accept() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    held.append(listener.accept())
                except OSError:
                    continue

        t = threading.Thread(target=accept, daemon=True)
        t.start()
        t0 = time.monotonic()
        try:
            with pytest.raises(LabError, match=r"did not answer within 1s"):
                fork_mode.probe_upstream(f"http://127.0.0.1:{port}", None, 1.0)
        finally:
            stop.set()
            t.join()
        assert time.monotonic() - t0 < 5


def test_a_block_beyond_the_head_is_refused_before_anything_starts(upstream: tuple[str, int]) -> None:
    url, _ = upstream
    with pytest.raises(InvalidInput, match=r"--fork-block.*beyond the head"):
        fork_mode.probe_upstream(url, _head(url) + 1000, 5.0)


def _start_and_stop(up: fork_mode.Upstream, log: Path) -> None:
    ref, _ = fork_mode.start(up, log, timeout_s=20.0, balance_eth=1000)
    process.stop(ref)  # reached only if it wrongly started: never leave a node behind


@contextlib.contextmanager
def _pruned_upstream(chain_id: int) -> Iterator[str]:
    """A pruned (non-archive) node: it knows its chain id and head, says any address has code, and has no state for
    the block a fork asks."""
    import http.server

    class Pruned(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            req = json.loads(self.rfile.read(int(self.headers["content-length"])))
            answers = []
            for r in req if isinstance(req, list) else [req]:
                known = {"eth_chainId": hex(chain_id), "eth_blockNumber": "0x64", "eth_getCode": "0x6000"}
                if r["method"] in known:
                    answers.append({"jsonrpc": "2.0", "id": r["id"], "result": known[r["method"]]})
                else:
                    err = {"code": -32000, "message": "missing trie node 0xdeadbeef (path ) state is not available"}
                    answers.append({"jsonrpc": "2.0", "id": r["id"], "error": err})
            body = json.dumps(answers if isinstance(req, list) else answers[0]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pruned)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        t.join()


def _start_and_stop(up: fork_mode.Upstream, log: Path) -> None:
    ref, _ = fork_mode.start(up, log, timeout_s=20.0, balance_eth=1000)
    process.stop(ref)  # reached only if it wrongly started: never leave a node behind


def test_a_fork_of_a_block_the_upstream_cannot_serve_says_so(tmp_path: Path) -> None:
    with _pruned_upstream(31337) as url:
        up = fork_mode.probe_upstream(url, 5, 5.0)
        with pytest.raises(LabError, match=r"anvil exited while forking .* at block 5") as err:
            _start_and_stop(up, tmp_path / "anvil.log")
    assert "does not serve that block's state" in str(err.value)


def _forks_of(url: str) -> set[int]:
    out = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if f"--fork-url {url} " in cmd:
                out.add(int(proc.name))
    return out


def test_when_one_fork_fails_the_others_are_stopped_not_left_running(upstream: tuple[str, int], tmp_path: Path) -> None:
    url, _ = upstream
    before = _forks_of(url)
    with _pruned_upstream(31338) as pruned:  # lab2's chain id: it passes the checks, then cannot be forked
        lab = Lab(tmp_path, fork=fork_mode.ForkSettings((url, pruned), venues=False))
        with pytest.raises(LabError, match="anvil exited while forking"):
            lab.up()
    assert _forks_of(url) == before  # lab1's fork started and was stopped
    assert not any(n.running for n in lab.status())


def test_bad_fork_settings_name_the_field() -> None:
    with pytest.raises(InvalidInput, match="--fork-url"):
        fork_mode.ForkSettings(("ftp://x",))
    with pytest.raises(InvalidInput, match="--fork-url"):
        fork_mode.ForkSettings(())
    with pytest.raises(InvalidInput, match="--fork-block"):
        fork_mode.ForkSettings(("http://127.0.0.1:1",), -1)


def test_an_unknown_chain_is_refused_by_name(tmp_path: Path) -> None:
    lab = Lab(tmp_path, fork=fork_mode.ForkSettings(("http://127.0.0.1:1",)))
    up = fork_mode.Upstream("http://127.0.0.1:1", 999_999, 5, 5)
    with pytest.raises(LabError, match="chain id 999999"):
        lab._forked_chain(up)


def test_a_different_fork_over_a_running_lab_is_refused(upstream: tuple[str, int], fork_lab: tuple[Lab, Path]) -> None:
    url, block = upstream
    _, data_dir = fork_lab
    other = Lab(data_dir, fork=fork_mode.ForkSettings((url,), block - 1))
    with pytest.raises(LabError, match="already running"):
        other.up()
    same = Lab(data_dir)  # no fork asked: the running fork is confirmed, not replaced
    nodes = same.up()
    assert [n.fork for n in nodes] == [{"url": url, "block": block}]
    assert isinstance(nodes[0].deployment, LabDeployment)


def test_the_configuration_s_fork_table_is_validated(tmp_path: Path) -> None:
    from fillpath.config import load_config_file

    path = tmp_path / "fillpath.toml"
    path.write_text('[fork]\nurl = "http://127.0.0.1:8545"\nblock = 21000000\ntimeout_s = 12\n')
    cfg = load_config_file(path)
    assert cfg.fork is not None
    assert (cfg.fork.url, cfg.fork.block, cfg.fork.timeout_s) == (("http://127.0.0.1:8545",), 21_000_000, 12.0)
    path.write_text('[fork]\nurl = "ftp://x"\n')
    with pytest.raises(InvalidInput, match=r"fork\.url"):
        load_config_file(path)
    path.write_text('[fork]\nurl = "http://x"\nblock = -1\n')
    with pytest.raises(InvalidInput, match=r"fork\.block"):
        load_config_file(path)


def test_a_chains_only_fork_starts_no_simulator(upstream: tuple[str, int], tmp_path: Path) -> None:
    url, block = upstream
    lab = Lab(tmp_path, fork=fork_mode.ForkSettings((url,), block, venues=False))
    try:
        t0 = time.perf_counter()
        (node,) = lab.up()
        took = time.perf_counter() - t0
        assert node.responding
        assert lab.exchange_statuses() == []
        cfg = lab_config(tmp_path)
        assert set(cfg.locations) == {"lab1"}
        assert cfg.exchanges == {}
        assert cfg.aggregators == {}
        assert took < 20  # no simulator to wait for (typically well under a second)
    finally:
        lab.down()
