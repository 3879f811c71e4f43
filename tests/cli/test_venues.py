"""``fillpath venues``: the lab's venues and any flagged pool, with state, score, reason and since, from the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from fillpath.execution.health import SECOND, HealthBook, HealthPolicy
from fillpath.execution.health_feed import JournalFeed
from fillpath.model.events import OrderAccepted, OrderRejected, OrderSubmitted, VenueHalted
from fillpath.model.sides import Side
from fillpath.state.store import Store

POOL = "lab1:uniswap_v3:0x88e6"


CONFIG = """
[locations.lab1]
chain_id = 31337
rpc = "http://127.0.0.1:9"
[locations.lab2]
chain_id = 31338
rpc = "http://127.0.0.1:9"
[exchanges.labex]
ccxt_id = "binance"
"""


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``fillpath venues`` reads the configuration and the store only: the venues need not be running."""
    (data_dir / "fillpath.toml").write_text(f'data_dir = "{data_dir}"\n' + CONFIG)
    env = {**os.environ, "FILLPATH_DATA_DIR": str(data_dir), "FILLPATH_CONFIG": str(data_dir / "fillpath.toml")}
    return subprocess.run(
        [sys.executable, "-m", "fillpath", *args], capture_output=True, text=True, env=env, timeout=60, check=True
    )


def ghost(store: Store, n: int, at_ns: int) -> None:
    """An order labex acknowledged and then denied, journaled as the order driver does."""
    cid = f"c{n}"
    store.append(OrderSubmitted("labex", cid, "ETH/USDT", Side.BUY, Decimal("0.5")), recv_ns=at_ns)
    store.append(OrderAccepted("labex", cid, f"v{n}"), recv_ns=at_ns + SECOND // 10)
    store.append(OrderRejected("labex", cid, "not_found: gone"), recv_ns=at_ns + SECOND)


def test_venues_reads_states_scores_and_reasons_from_the_store(tmp_path: Path) -> None:
    now = time.time_ns()
    with Store.open(f"sqlite:///{tmp_path / 'fillpath.db'}") as store:
        old = now - 3 * 3600 * SECOND  # an incident hours ago: out of the score's window
        ghost(store, 0, old)
        ghost(store, 1, now - 60 * SECOND)
        book, feed = HealthBook(), JournalFeed()  # what the engine does: the book's changes go to the journal
        for rec in list(store.events()):
            store.append_many(feed.feed(book, rec), recv_ns=rec.recv_ns)
        store.append(VenueHalted(POOL, "pool paused by its owner"), recv_ns=now - 30 * SECOND)
        degraded_seq = store.venue_flag("labex").last_seq
    rows = {r["venue"]: r for r in json.loads(run(tmp_path, "venues", "--json").stdout)}
    assert list(rows) == ["lab1", "lab2", "labex", POOL]
    assert rows["lab1"] == {
        "venue": "lab1",
        "configured": True,
        "state": "ok",
        "score": 100.0,
        "penalty": 0.0,
        "penalty_bps": 0,
        "held": False,
        "reason": None,
        "since_seq": None,
        "since": None,
    }
    labex = rows["labex"]
    assert labex["state"] == "degraded" and labex["since_seq"] == degraded_seq
    assert labex["reason"].startswith("health: penalty 20.0 >= 20 after ack_then_deny")
    # only the recent ghost counts (20 points, 59 s ago, plus the time the command took to start); the old one is
    # outside the window
    assert 20 * 0.5 ** ((59 + 30) / 300) < labex["penalty"] <= 20 * 0.5 ** (59 / 300)
    assert labex["penalty_bps"] == HealthPolicy().router_bps(book.state("labex"), labex["penalty"])
    pool = rows[POOL]
    assert (pool["configured"], pool["state"], pool["held"], pool["score"]) == (False, "halted", True, 100.0)
    assert pool["since"].endswith("Z")
    table = run(tmp_path, "venues").stdout
    assert "degraded" in table and "halted (held)" in table and "excluded" in table
