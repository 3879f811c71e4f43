"""Ctrl-C during ``fillpath swap --execute``: at a step boundary, explained, and finished by ``recover`` once.

Fills arrive late on the lab's exchange (the ``delayed_fills`` fault), and ETH → USDC on labex needs two orders,
the second spending what the first delivers. The first interrupt sends nothing new and waits for what is out; a
second stops waiting and leaves it open for ``recover``. Either way the journal has every leg, the venue has one
order per client id, and nothing is sent that the journal did not record first.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from fillpath.lab.manager import Lab
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from tests.conftest import Chain


def _admin(lab_dir: Path, path: str, body: dict[str, Any] | None = None) -> Any:
    url = Lab(lab_dir).exchange_status().url
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}{path}", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _submitted(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM journal WHERE kind = 'order.submitted'").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.fixture
def slow_labex(lab1: Chain, tmp_path: Path) -> Any:
    lab_dir = Path(os.environ["FILLPATH_TEST_LAB_DIR"])
    Lab(lab_dir).fund({"ETH@labex": "5"})
    _admin(lab_dir, "/admin/faults", {"profiles": {"delayed_fills": {"delay": "4", "rate": "1"}}})
    env = {**os.environ, "FILLPATH_DATA_DIR": str(lab_dir), "FILLPATH_DATABASE_URL": f"sqlite:///{tmp_path / 'i.db'}"}
    try:
        yield lab_dir, env, tmp_path / "i.db"
    finally:
        _admin(lab_dir, "/admin/faults", {"profiles": {}})


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fillpath", *args], capture_output=True, text=True, env=env,
                          timeout=180)  # fmt: skip


def _interrupted_swap(env: dict[str, str], db: Path, signals: int) -> tuple[int, str, dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fillpath", "swap", "2", "ETH@labex", "USDC@labex", "--execute", "--json",
         "--max-hops", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while _submitted(db) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    for _ in range(signals):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, err, json.loads(out)


def _one_order_per_client_id(lab_dir: Path, eid: str, db: Path) -> None:
    with Store.open(f"sqlite:///{db}") as store:
        journaled = {cid for (_venue, cid) in store.orders()}
        ours = {i.ref for i in store.intents().values() if i.intent_id.startswith(eid) and i.action == "cex.order"}
        assert not [i for i in store.intents().values() if i.status is IntentStatus.OPEN]
    requests = [r for r in _admin(lab_dir, "/admin/requests") if r["client_order_id"] in ours]
    new = [r["client_order_id"] for r in requests if r["kind"] == "new"]
    assert new and len(new) == len(set(new))  # the orders the execution sent, each once
    assert set(new) <= journaled  # nothing reached the venue that the journal did not record first


def test_one_interrupt_sends_nothing_new_and_waits_for_what_is_out(slow_labex: Any) -> None:
    lab_dir, env, db = slow_labex
    code, err, out = _interrupted_swap(env, db, signals=1)
    assert code == 130, err
    assert "Traceback" not in err and "sending nothing new" in err and "interrupted:" in err
    assert out["status"] == "interrupted"
    legs = out["legs"]
    assert any(leg["status"] == "done" for leg in legs)  # the order already out ran to its (late) fills
    waiting = [leg for leg in legs if leg["asset_in"] == "USDT@labex"]
    assert waiting and all(leg["status"] == "failed" and "interrupted" in leg["reason"] for leg in waiting)
    assert not [leg for leg in legs if leg["status"] == "unknown"]
    rep = json.loads(_run(env, "report", out["execution_id"], "--json").stdout)
    assert rep["status"] == "interrupted" and len(rep["legs"]) == len(legs)
    assert "nothing to recover" in _run(env, "recover").stdout
    _one_order_per_client_id(lab_dir, out["execution_id"], db)


def test_a_second_interrupt_stops_waiting_and_recover_finishes_exactly_once(slow_labex: Any) -> None:
    lab_dir, env, db = slow_labex
    code, err, out = _interrupted_swap(env, db, signals=2)
    assert code == 130, err
    assert "not waiting" in err and "recover" in err
    open_legs = [leg for leg in out["legs"] if leg["status"] == "unknown"]
    assert open_legs
    time.sleep(4.5)  # the late fills land
    first = _run(env, "recover")
    assert first.returncode == 0, first.stderr
    assert "recovered" in first.stdout or "resolved" in first.stdout or "good" in first.stdout, first.stdout
    assert "nothing to recover" in _run(env, "recover").stdout  # exactly once
    _one_order_per_client_id(lab_dir, out["execution_id"], db)
