"""kill -9 of a cross-location swap at each point where funds are about to leave, or are between, locations; then
``recover`` in a new process finishes or unwinds it without loss or duplicate:

- before the deposit: the bridge's intent is committed, the deposit never sent → resolved bad, the nonce gap
  filled, nothing moved;
- after the deposit, before the fill: the deposit is final and booked → recovery books the fill (once) when the
  relayer has made it;
- after the exchange credited a deposit, before the order that would spend it → nothing is open: the funds are
  in the account, booked;
- during a withdrawal: the exchange accepted it, we had not journaled its reply → recovery finds it by its client
  id, books the debit and follows it to its landing on the chain.

After recovery: no intent open, no transfer in flight, one transaction per nonce, one withdrawal per client id, one
relay fill, and a reconciliation pass that finds the ledger equal to every venue.
"""

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
from eth_account import Account

from fillpath.state.records import IntentStatus, TransferState
from fillpath.state.store import Store
from tests.conftest import Chain
from tests.execution.movers import lab, relayer, sim


def _worker(mode: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.execution.swap_worker", mode],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _funded(lab1: Chain, tokens: dict[str, int]) -> Any:
    acct = Account.create()
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": acct.address, "value": 10 * 10**18})
    for symbol, units in tokens.items():
        lab1.contract(symbol).functions.transfer(acct.address, units).transact({"from": lab1.dev})
    return acct


CASES = {
    # name: (sell, amount, buy, max hops, failpoint, lab1 tokens, labex funding)
    "before-deposit": ("USDC@lab1", 3000 * 10**6, "USDC@lab2", 1, "transfer_intent", {"USDC": 3000 * 10**6}, None),
    "after-deposit-before-fill": (
        "USDC@lab1", 3000 * 10**6, "USDC@lab2", 1, "transfer_sent", {"USDC": 3000 * 10**6}, None,
    ),
    "after-credit-before-order": (
        "WETH@lab1", 3 * 10**18, "USDT@labex", 4, "transfer_done", {"WETH": 3 * 10**18}, {"ETH@labex": "0"},
    ),
    "during-withdrawal": ("USDC@labex", 800 * 10**6, "USDC@lab2", 1, "withdraw_sent", {}, {"USDC@labex": "1000"}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_kill_9_mid_transfer_then_recover(case: str, lab1: Chain, tmp_path: Path) -> None:
    sell, amount, buy, hops, point, tokens, labex = CASES[case]
    acct = _funded(lab1, tokens)
    if labex:
        lab().fund(labex)
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    env = {"DB_URL": db, "FILLPATH_TEST_KEY": acct.key.hex(), "SELL": sell, "AMOUNT": str(amount), "BUY": buy,
           "MAX_HOPS": str(hops), "CHAINS": "lab1,lab2"}  # fmt: skip
    started = time.time_ns()
    withdrawals_before = {w["id"] for w in sim("/admin/capital")["withdrawals"]}
    orders_before = {r["seq"] for r in sim("/admin/requests")}
    proc = _worker("swap", {**env, "FILLPATH_FAILPOINT": point})
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err[-3000:]
    with Store.open(db) as store:
        assert any(i.status is IntentStatus.OPEN for i in store.intents().values()) or point == "transfer_done"
        in_flight_before = [t for t in store.transfers().values() if t.state is TransferState.ACCEPTED]
    if point == "transfer_sent":
        assert in_flight_before, "the deposit was booked in flight before the kill"
    rec = _worker("recover", env)
    out, err = rec.communicate(timeout=180)
    assert rec.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert all(outcome != "unknown" for _i, outcome, _d in report["resolved"]), report
    assert all(action in ("ok", "open") for _v, _a, action in report["findings"]), report["findings"]
    with Store.open(db) as store:
        assert all(i.status is not IntentStatus.OPEN for i in store.intents().values())
        transfers = list(store.transfers().values())
        assert transfers and all(t.state in (TransferState.COMPLETED, TransferState.REJECTED) for t in transfers)
        nonce = store.next_nonce("lab1", acct.address)
        if point == "transfer_intent":
            assert [t.state for t in transfers] == [TransferState.REJECTED]  # never sent: nothing moved
        else:
            assert all(t.state is TransferState.COMPLETED for t in transfers)
    mined = lab1.w3.eth.get_transaction_count(acct.address, "latest")  # one transaction per nonce, no gap
    assert mined == lab1.w3.eth.get_transaction_count(acct.address, "pending")
    assert nonce is None or mined == nonce
    fills = [e for e in relayer("/admin/status")["log"] if e["what"] == "fill" and int(e["at_ns"]) > started]
    assert len(fills) == (1 if point == "transfer_sent" else 0)
    new_withdrawals = [w for w in sim("/admin/capital")["withdrawals"] if w["id"] not in withdrawals_before]
    assert len(new_withdrawals) == (1 if point == "withdraw_sent" else 0)
    if point == "transfer_done":  # the order that would have spent the credit was never placed
        assert not [r for r in sim("/admin/requests") if r["seq"] not in orders_before and r["kind"] == "new"]
