"""A private key never appears in a log, a repr, an exception, a file other than its keystore, or CLI output.

A sentinel key and passphrase go through every flow; everything those flows produce is scanned for them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from fillpath.chains import transactions as txs
from fillpath.chains.accounts import Keystore, signer_from_env, signer_from_keystore
from fillpath.chains.fees import suggest_fees
from fillpath.chains.nonces import NonceAllocator
from fillpath.chains.tracker import TrackerPolicy, TxState, TxTracker
from fillpath.model.errors import InvalidInput
from fillpath.state.store import Store
from tests.chains.helpers import rpc_for, run
from tests.conftest import Chain

SENTINEL_KEY = "0x" + "c0ffee" * 10 + "beef"
SENTINEL_PASS = "sentinel-passphrase-7f3a"
SENTINEL_ADDR = Account.from_key(SENTINEL_KEY).address
FAST_KDF = 2**12


def _needles() -> list[str]:
    k = SENTINEL_KEY.removeprefix("0x")
    return [k, k.upper(), SENTINEL_PASS, str(int(k, 16))]


def _assert_clean(text: str) -> None:
    for needle in _needles():
        assert needle not in text


def test_keystore_round_trip_and_file_mode(tmp_path: Path) -> None:
    ks = Keystore(tmp_path / "keys", kdf_iterations=FAST_KDF)
    entry = ks.import_key("trader", SENTINEL_KEY, SENTINEL_PASS)
    assert entry.address == SENTINEL_ADDR
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    _assert_clean(entry.path.read_text())
    assert [e.name for e in ks.list()] == ["trader"]
    assert ks.unlock("trader", SENTINEL_PASS).address == SENTINEL_ADDR
    with pytest.raises(InvalidInput, match="does not unlock") as err:
        ks.unlock("trader", "wrong passphrase!")
    _assert_clean(str(err.value))
    with pytest.raises(InvalidInput, match="already exists"):
        ks.import_key("trader", SENTINEL_KEY, SENTINEL_PASS)


def test_signer_hides_its_key(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("FP_SENTINEL_KEY", SENTINEL_KEY)
    signer = signer_from_env("FP_SENTINEL_KEY")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("fillpath").debug("signer %r %s", signer, signer)
    text = repr(signer) + str(signer) + repr(vars(signer) if hasattr(signer, "__dict__") else "") + caplog.text
    text += " ".join(repr(getattr(signer, a, None)) for a in dir(signer) if not a.startswith("__"))
    assert SENTINEL_ADDR in repr(signer)
    _assert_clean(text)
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_a_malformed_key_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_SENTINEL_KEY", SENTINEL_KEY + "zz")  # a typo in a real key
    with pytest.raises(InvalidInput) as err:
        signer_from_env("FP_SENTINEL_KEY")
    _assert_clean(str(err.value) + repr(err.value))


def test_every_flow_with_the_sentinel_key(lab1: Chain, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    env = {**os.environ, "FILLPATH_DATA_DIR": str(data), "FP_K": SENTINEL_KEY, "FP_P": SENTINEL_PASS, "CI": "1"}
    outputs = []
    for args in (
        ["keys", "import", "hot", "--from-env", "FP_K", "--passphrase-env", "FP_P"],
        ["keys", "list"],
        ["keys", "list", "--json"],
        ["keys", "import", "hot", "--from-env", "FP_K", "--passphrase-env", "FP_P"],  # fails: exists
        ["keys", "new", "cold", "--passphrase-env", "FP_P"],
        ["--debug", "keys", "list"],
    ):
        res = subprocess.run(
            [sys.executable, "-m", "fillpath", *args], capture_output=True, text=True, env=env, timeout=60
        )
        outputs.append(res.stdout + res.stderr)
    listed = json.loads(outputs[2])
    assert listed[0]["address"] == SENTINEL_ADDR
    assert "already exists" in outputs[3]

    # unlock, sign and send a real transaction with it
    signer = signer_from_keystore(data / "keys" / "hot.json", SENTINEL_PASS)
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": signer.address, "value": 10**18})

    store = Store.open(f"sqlite:///{data / 'fillpath.db'}")  # the journal sees every step, and must hold no key

    async def go() -> str:
        async with rpc_for(lab1) as rpc:
            alloc = NonceAllocator(rpc, "lab1", signer.address, store)
            call = txs.wrap(lab1.deployment.address("WETH9"), 10**15)
            signed, _ = await txs.prepare(rpc, signer, 31337, await alloc.allocate(), call, await suggest_fees(rpc))
            outputs.append(repr(signed))
            tracker = TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=1))
            tracker.track(signed, intent_id="sentinel-flow")
            sent = await txs.broadcast(rpc, signed)
            for _ in range(40):
                await tracker.poll()
                if tracker.state(sent) is TxState.CONFIRMED:
                    break
                await asyncio.sleep(0.05)
            return sent

    tx_hash = run(go())
    store.close()
    outputs.append(json.dumps([str(r) for r in Store.open(f"sqlite:///{data / 'fillpath.db'}").events()]))
    assert lab1.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    outputs.append(caplog.text)
    for path in data.rglob("*"):
        if path.is_file() and path.suffix != ".json":  # keystores are encrypted; everything else must be clean
            outputs.append(path.read_bytes().decode("latin-1"))  # the SQLite file and its WAL, byte for byte
    for path in (data / "keys").glob("*.json"):
        outputs.append(path.read_text())
    for out in outputs:
        _assert_clean(out)
