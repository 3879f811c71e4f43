"""``fillpath lab up | down | status`` as a user runs them: real processes, real ports, the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fillpath.lab.chains import process, rpc
from fillpath.lab.manager import BLOCK_INTERVAL_S, GENESIS_TIMESTAMP

FILLPATH = [sys.executable, "-m", "fillpath.cli.main"]


def cli(*args: str, data_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FILLPATH_DATA_DIR": str(data_dir)}
    res = subprocess.run([*FILLPATH, *args], capture_output=True, text=True, env=env, timeout=180, check=False)
    if check and res.returncode != 0:
        raise AssertionError(f"fillpath {' '.join(args)} exited {res.returncode}: {res.stderr}")
    return res


def _refs(data_dir: Path) -> dict[str, process.ProcessRef]:
    state = json.loads((data_dir / "lab" / "lab.json").read_text())
    refs = {k: process.ProcessRef.from_json(v["process"]) for k, v in state["nodes"].items()}
    for location, rec in (state.get("exchanges") or {}).items():
        refs[location] = process.ProcessRef.from_json(rec["process"])
    if state.get("relayer"):
        refs["relayer"] = process.ProcessRef.from_json(state["relayer"]["process"])
    return refs


@pytest.fixture
def lab_dir(tmp_path: Path) -> Any:
    data = tmp_path / "lifecycle"
    yield data
    cli("lab", "down", data_dir=data, check=False)


def test_up_twice_down_and_status_tell_the_truth(lab_dir: Path) -> None:
    first = json.loads(cli("lab", "up", "--json", data_dir=lab_dir).stdout)
    locs = first["locations"]
    assert set(locs) == {"lab1", "lab2", "labex", "labokx"}
    assert (locs["lab1"]["chain_id"], locs["lab2"]["chain_id"]) == (31337, 31338)
    for name, ccxt_id in (("labex", "binance"), ("labokx", "okx")):
        assert locs[name]["responding"] and (locs[name]["kind"], locs[name]["ccxt_id"]) == ("cex", ccxt_id)
    assert first["relayer"]["responding"]
    for loc in (locs["lab1"], locs["lab2"]):
        assert loc["responding"]
        assert loc["rpc_url"].startswith("http://127.0.0.1:")
        assert loc["ws_url"].startswith("ws://127.0.0.1:")
        assert int(rpc.call(loc["rpc_url"], "eth_chainId"), 16) == loc["chain_id"]
        for name in ("WETH9", "USDC", "USDT", "WBTC", "DAI", "Multicall3", "UniswapV2Factory",
                     "UniswapV2Router02", "UniswapV3Factory", "SwapRouter", "QuoterV2",
                     "NonfungiblePositionManager"):  # fmt: skip
            assert rpc.call(loc["rpc_url"], "eth_getCode", [loc["contracts"][name], "latest"]) not in (
                "0x",
                None,
            )
    pids = _refs(lab_dir)

    # idempotent: the same nodes keep running, nothing is redeployed
    second = json.loads(cli("lab", "up", "--json", data_dir=lab_dir).stdout)
    assert second["locations"]["lab1"]["rpc_url"] == locs["lab1"]["rpc_url"]
    assert _refs(lab_dir) == pids

    # a node killed behind the lab's back is reported, with a non-zero exit
    os.kill(pids["lab1"].pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while process.is_alive(pids["lab1"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    res = cli("lab", "status", "--json", data_dir=lab_dir, check=False)
    assert res.returncode == 1
    status = json.loads(res.stdout)["locations"]
    assert status["lab1"]["responding"] is False
    assert "not running" in status["lab1"]["problem"]
    assert status["lab2"]["responding"] is True

    # up repairs only what is broken, from the cached state
    res = cli("lab", "up", data_dir=lab_dir)
    assert "lab1: loaded the cached deployment" in res.stderr
    repaired = _refs(lab_dir)
    assert repaired["lab2"] == pids["lab2"]
    assert repaired["lab1"] != pids["lab1"]

    # down stops every process it started and leaves none behind
    down = json.loads(cli("lab", "down", "--json", data_dir=lab_dir).stdout)
    assert sorted(down["stopped"]) == ["lab1", "lab2", "labagg", "labex", "labokx", "relayer"]
    for ref in repaired.values():
        assert not process.is_alive(ref)
    state = json.loads((lab_dir / "lab" / "lab.json").read_text())
    assert state["nodes"] == {} and "exchanges" not in state and "relayer" not in state
    res = cli("lab", "status", data_dir=lab_dir, check=False)
    assert res.returncode == 1
    assert "not started" in res.stdout


def test_reloaded_lab_has_the_deployed_state_and_deterministic_timestamps(lab_dir: Path) -> None:
    cli("lab", "up", data_dir=lab_dir)
    cli("lab", "down", data_dir=lab_dir)
    res = cli("lab", "up", "--json", data_dir=lab_dir)
    loc = json.loads(res.stdout)["locations"]["lab1"]
    url = loc["rpc_url"]
    block = int(rpc.call(url, "eth_blockNumber"), 16)
    assert block == loc["block"] > 50  # the deployment's blocks survive the reload
    head = rpc.call(url, "eth_getBlockByNumber", ["latest", False])
    assert int(head["timestamp"], 16) == GENESIS_TIMESTAMP + BLOCK_INTERVAL_S * block
    rpc.call(url, "evm_mine")
    nxt = rpc.call(url, "eth_getBlockByNumber", ["latest", False])
    assert int(nxt["timestamp"], 16) == int(head["timestamp"], 16) + BLOCK_INTERVAL_S


def test_status_without_a_lab_says_so(tmp_path: Path) -> None:
    res = cli("lab", "status", data_dir=tmp_path / "empty", check=False)
    assert res.returncode == 1
    assert "not started" in res.stdout


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One fresh lab for the tests below that only read it (each lab start is seconds): its data dir and the
    ``lab up --json`` document, which must be the only thing on stdout (progress goes to stderr)."""
    data = tmp_path_factory.mktemp("shared-lab") / "lifecycle"
    try:
        yield data, json.loads(cli("lab", "up", "--json", data_dir=data).stdout)
    finally:
        cli("lab", "down", data_dir=data, check=False)


# one worker starts the shared lab for these (``--dist loadgroup``), not one per worker
SHARED = pytest.mark.xdist_group("lab-lifecycle-shared")


@SHARED
def test_lab_up_json_is_the_only_thing_on_stdout(shared_lab: tuple[Path, dict[str, Any]]) -> None:
    _data, doc = shared_lab
    assert set(doc["locations"]) == {"lab1", "lab2", "labex", "labokx"}


@SHARED
def test_the_lab_exchange_speaks_binance_to_ccxt(shared_lab: tuple[Path, dict[str, Any]]) -> None:
    import asyncio
    from decimal import Decimal

    from fillpath.lab.exchange.binance import sim_binance
    from fillpath.lab.manager import Lab

    lab_dir, doc = shared_lab
    locs = doc["locations"]
    creds = Lab(lab_dir).exchange_credentials()
    assert locs["labex"]["api_key"] == creds.api_key
    assert creds.secret not in json.dumps(locs) and "secret=***" in repr(creds)
    assert oct((lab_dir / "lab" / "labex-credentials.json").stat().st_mode & 0o777) == "0o600"

    async def go() -> tuple[list[str], dict[str, str], dict[str, object]]:
        ex = sim_binance(locs["labex"]["url"], creds.api_key, creds.secret)
        try:
            markets = await ex.load_markets()
            balance = await ex.fetch_balance()
            book = await ex.fetch_order_book("ETH/USDT")
            return sorted(markets), {b["asset"]: b["free"] for b in balance["info"]["balances"]}, book
        finally:
            await ex.close()

    symbols, free, book = asyncio.run(go())
    assert symbols == ["BTC/USDT", "ETH/BTC", "ETH/USDT", "USDC/USDT"]
    assert Decimal(free["ETH"]) == 1500 and Decimal(free["USDT"]) == 10_000_000
    bid = Decimal(str(book["bids"][0][0]))  # type: ignore[index]
    assert abs(bid - 3000) < 30  # priced near lab1's pools


@SHARED
def test_the_second_lab_exchange_speaks_okx_to_ccxt_with_its_own_books_and_fees(
    shared_lab: tuple[Path, dict[str, Any]],
) -> None:
    import asyncio
    from decimal import Decimal

    from fillpath.lab.exchange.okx.client import sim_okx
    from fillpath.lab.manager import Lab

    lab_dir, doc = shared_lab
    locs = doc["locations"]
    creds = Lab(lab_dir).exchange_credentials("labokx")
    assert locs["labokx"]["api_key"] == creds.api_key and creds.passphrase
    assert creds.passphrase not in json.dumps(locs) and "passphrase=***" in repr(creds)
    assert oct((lab_dir / "lab" / "labokx-credentials.json").stat().st_mode & 0o777) == "0o600"
    config = (lab_dir / "lab" / "fillpath.toml").read_text()
    assert '[exchanges.labokx]\nccxt_id = "okx"' in config and creds.passphrase not in config

    async def go(url: str, passphrase: str) -> tuple[list[str], Any, Any, Any]:
        ex = sim_okx(url, creds.api_key, creds.secret, passphrase)
        try:
            markets = await ex.load_markets()
            balance = await ex.fetch_balance()
            fee = await ex.fetch_trading_fee("ETH/USDT")
            return sorted(markets), balance, await ex.fetch_order_book("ETH/USDT", 400), fee
        finally:
            await ex.close()

    symbols, balance, okx_book, fee = asyncio.run(go(locs["labokx"]["url"], creds.passphrase))
    assert symbols == ["BTC/USDT", "ETH/BTC", "ETH/USDT", "USDC/USDT"]
    assert (balance["ETH"]["free"], balance["USDT"]["free"]) == (1500, 10_000_000)
    assert (fee["maker"], fee["taker"]) == (0.0008, 0.001)  # OKX's Lv1 schedule, not labex's
    mid = (Decimal(str(okx_book["bids"][0][0])) + Decimal(str(okx_book["asks"][0][0]))) / 2
    assert abs(mid - 3000) < 30  # priced near lab1's pools, a little above labex
    assert len(okx_book["bids"]) == 150  # its own book shape
