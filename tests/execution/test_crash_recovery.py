"""kill -9 of a swap process at each dangerous moment, then recovery in a new process.

(a) after an intent commits, before anything is sent (chain and exchange); (b) after sending, before the
answer (a transaction broadcast without its receipt; an order the exchange accepted whose reply never came);
(c) between an order's acknowledgement and its fills. After recovery: no intent open, exactly one live order per
client id at the simulator (its admin record), one transaction per nonce on the chain, and a reconciliation
pass that finds the ledger equal to every venue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from fillpath.lab.manager import Lab
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from tests.conftest import Chain


def _admin(path: str, body: dict[str, Any] | None = None) -> Any:
    url = Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"])).exchange_status().url
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}{path}", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _worker(mode: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.execution.swap_worker", mode],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _funded(lab1: Chain) -> Any:
    acct = Account.create()
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": acct.address, "value": 10 * 10**18})
    lab1.contract("WETH").functions.transfer(acct.address, 20 * 10**18).transact({"from": lab1.dev})
    return acct


CASES = {
    # name: (sell, failpoint, exchange fault, kill when the simulator has seen the order)
    "a-chain-intent": ("WETH@lab1", "intent", None),
    "a-exchange-intent": ("ETH@labex", "intent", None),
    "b-chain-broadcast": ("WETH@lab1", "broadcast", None),
    "b-exchange-no-reply": ("ETH@labex", None, {"drop_response": {"rate": "1", "hang": "20"}}),
    "c-exchange-between-ack-and-fills": ("ETH@labex", "ack", {"delayed_fills": {"delay": "2", "rate": "1"}}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kill_9_mid_swap_then_recover(case: str, lab1: Chain, tmp_path: Path) -> None:
    sell, point, fault = CASES[case]
    acct = _funded(lab1)
    Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"])).fund({"ETH@labex": "20"})  # shared by the session's tests
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    env = {"DB_URL": db, "FILLPATH_TEST_KEY": acct.key.hex(), "SELL": sell, "AMOUNT": str(5 * 10**18)}
    seen_before = {r["seq"] for r in _admin("/admin/requests")}
    if fault:
        _admin("/admin/faults", {"profiles": fault})
    try:
        proc = _worker("swap", {**env, **({"FILLPATH_FAILPOINT": point} if point else {})})
        if point is None:  # kill from outside once the order is at the exchange and its reply is hanging
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if any(r["seq"] not in seen_before and r["kind"] == "new" for r in _admin("/admin/requests")):
                    break
                time.sleep(0.05)
            time.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, err[-3000:]
    finally:
        _admin("/admin/faults", {"profiles": {}})
    time.sleep(2.5 if fault else 0)  # delayed fills land meanwhile
    # the crash left something open
    with Store.open(db) as store:
        open_before = [i for i in store.intents().values() if i.status is IntentStatus.OPEN]
    assert open_before, "the crash point was reached with nothing open"
    rec = _worker("recover", env)
    out, err = rec.communicate(timeout=180)
    assert rec.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert report["resolved"] and all(outcome != "unknown" for _i, outcome, _d in report["resolved"]), report
    with Store.open(db) as store:
        assert all(i.status is not IntentStatus.OPEN for i in store.intents().values())
        cids = {cid for (_v, cid) in store.orders()}
        nonces = store.next_nonce("lab1", acct.address)
    # exactly one live order per client id at the simulator; none that the journal does not know
    new = [r for r in _admin("/admin/requests") if r["seq"] not in seen_before and r["kind"] == "new"]
    placed = [r["client_order_id"] for r in new if r["outcome"] != "rejected"]
    assert len(placed) == len(set(placed))
    assert set(placed) <= cids
    # one transaction per nonce, no gap: the chain's count equals what we allocated
    mined = lab1.w3.eth.get_transaction_count(acct.address, "latest")
    assert mined == lab1.w3.eth.get_transaction_count(acct.address, "pending")
    assert nonces is None or mined == nonces
    # the ledger equals every venue after recovery
    assert all(action in ("ok", "open") for _v, _a, action in report["findings"]), report["findings"]
