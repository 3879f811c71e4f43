"""Several engines, one truth: four trading processes on one PostgreSQL journal and one account (issue 24).

Each process swaps WETH → USDC on lab1 from the same account, so their nonces, exact approvals of the same token,
intents and ledger all meet in one journal. Afterwards the chain must show one transaction per journaled nonce
with no gap and no duplicate, every intent must have ended exactly once, and the ledger must equal the chain.
The crash case kills one engine mid-run and lets two recovering processes race for what it left.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from fillpath.chains.balances import ChainBalances
from fillpath.model.events import IntentClaimed
from fillpath.state.reconciler import Reconciler
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from tests.chains.helpers import rpc_for
from tests.conftest import Chain

ENGINES, SWAPS, AMOUNT = 4, 12, 10**17  # 48 swaps racing for one nonce sequence: enough interleavings, half the time


def _engine(env: dict[str, str], tag: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.state.engine_proc"], env={**os.environ, **env, "TAG": tag,
                            **extra}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _reconcile(store: Store, lab1: Chain, holder: str) -> list[Any]:
    async def go() -> list[Any]:
        rpc = rpc_for(lab1)
        source = ChainBalances(rpc, replace(lab1.deployment.chain_source(), holder=holder), confirmations=0)
        try:
            return await Reconciler(store, [source]).run_once()
        finally:
            await rpc.close()

    return asyncio.run(go())


def _start(pg_url: str, lab1: Chain, tmp_path: Path) -> tuple[dict[str, str], Store, str, int]:
    acct = Account.create()  # the engines read its key from an environment variable, as a configured account would
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": acct.address, "value": 50 * 10**18})
    lab1.contract("WETH").functions.transfer(acct.address, 20 * 10**18).transact({"from": lab1.dev})
    store = Store.open(pg_url)
    _reconcile(store, lab1, acct.address)  # opens the ledger from the chain
    env = {"DB_URL": pg_url, "FILLPATH_TEST_KEY": acct.key.hex(), "SWAPS": str(SWAPS), "AMOUNT": str(AMOUNT),
           "GO_FILE": str(tmp_path / "go")}  # fmt: skip
    return env, store, acct.address, lab1.w3.eth.get_transaction_count(acct.address)


def _wait_ready(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        line = p.stdout.readline() if p.stdout else ""
        assert '"ready": true' in line, (line, p.stderr.read() if p.stderr else "")


def _check_chain_and_journal(lab1: Chain, store: Store, address: str, first_nonce: int) -> dict[str, int]:
    store.refresh()
    ours = [t for t in store.transactions().values() if t.venue == "lab1" and (t.sender or "").lower() ==
            address.lower()]  # fmt: skip
    nonces = sorted(t.nonce for t in ours if t.nonce is not None)
    last = lab1.w3.eth.get_transaction_count(address)
    assert nonces == list(range(first_nonce, last)), "one journaled transaction per nonce, no gap, no duplicate"
    for t in ours:  # every journaled transaction is on chain, at its nonce
        tx = lab1.w3.eth.get_transaction(t.tx_hash)  # type: ignore[arg-type]
        assert tx["nonce"] == t.nonce and lab1.w3.eth.get_transaction_receipt(t.tx_hash)["status"] == 1  # type: ignore[arg-type]
    intents = [i for i in store.intents().values() if i.venue == "lab1"]
    assert all(i.status is IntentStatus.GOOD for i in intents), [
        i for i in intents if i.status is not IntentStatus.GOOD
    ]
    calls = [t for t in ours if t.intent_id and store.intent(t.intent_id) and
             (store.intent(t.intent_id).ref or "").endswith(t.tx_hash)]  # type: ignore[union-attr]  # fmt: skip
    assert len(calls) == len(intents) and len({t.intent_id for t in calls}) == len(intents)  # one call per intent
    return {"transactions": len(ours), "intents": len(intents)}


@pytest.mark.postgres
def test_multiprocess_four_engines_one_account_lose_and_duplicate_nothing(
    lab1: Chain, pg_url: str, tmp_path: Path
) -> None:
    env, store, address, first_nonce = _start(pg_url, lab1, tmp_path)
    procs = [_engine(env, f"e{n}") for n in range(ENGINES)]
    try:
        _wait_ready(procs)
        (tmp_path / "go").touch()  # all four start trading at once
        outs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
        swaps = [json.loads(line) for line in out.splitlines() if '"i"' in line]
        bad = [(s["i"], s["status"], s["reasons"]) for s in swaps if s["status"] != "done"]
        assert len(swaps) == SWAPS and not bad, bad
    counts = _check_chain_and_journal(lab1, store, address, first_nonce)
    assert counts["intents"] == ENGINES * SWAPS
    assert counts["transactions"] == 2 * ENGINES * SWAPS  # an exact approval and the executor call, each swap
    for result in _reconcile(store, lab1, address):  # the ledger equals the chain
        assert all(f.action.value == "ok" for f in result.findings), result.findings
    store.close()


@pytest.mark.postgres
def test_multiprocess_a_killed_engines_intents_end_exactly_once(lab1: Chain, pg_url: str, tmp_path: Path) -> None:
    env, store, address, first_nonce = _start(pg_url, lab1, tmp_path)
    # the victim kills itself (kill -9) right after its first swap's transactions left: its intent is open
    procs = [_engine(env, f"e{n}", SWAPS="8", **({"FILLPATH_FAILPOINT": "broadcast"} if n == 1 else {}))
             for n in range(3)]  # fmt: skip
    try:
        _wait_ready(procs)
        (tmp_path / "go").touch()
        victim = procs[1]
        assert victim.wait(timeout=120) == -signal.SIGKILL, victim.communicate()[1][-3000:]
        for p in (procs[0], procs[2]):
            assert p.wait(timeout=600) == 0
    finally:
        for p in procs:
            p.kill()
    # two processes race to recover what the dead engine left: each intent is claimed once, resolved once
    (tmp_path / "go").unlink()
    rescuers = [_engine(env, f"r{n}", MODE="recover") for n in range(2)]
    _wait_ready(rescuers)
    (tmp_path / "go").touch()
    outs = [r.communicate(timeout=300) for r in rescuers]
    assert all(r.returncode == 0 for r in rescuers), [o[1][-2000:] for o in outs]
    store.refresh()
    claims = [r.event for r in store.events() if isinstance(r.event, IntentClaimed)]
    assert claims, "the dead engine left an open intent to take over"
    assert len({c.intent_id for c in claims}) == len(claims)  # never claimed twice
    recovered = [row for out, _ in outs for row in json.loads(out.splitlines()[-1])["recovered"]]
    assert sorted(i for i, _ in recovered) == sorted(c.intent_id for c in claims)  # resolved by its claimer only
    time.sleep(0.5)
    _check_chain_and_journal(lab1, store, address, first_nonce)
    for result in _reconcile(store, lab1, address):
        assert all(f.action.value in ("ok", "adjust") for f in result.findings), result.findings
    store.close()
