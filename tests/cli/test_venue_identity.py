"""Venue identity (issue 19): a venue that comes back as another one.

- A non-lab exchange (the simulator, configured as a user's venue would be) restarted with fresh accounts halts at
  the next pass with a message naming ``reconcile --accept``; the accept's dry run shows the adjustments and books
  nothing; ``--execute`` books them with an audit event, lifts the halt, and the next pass agrees.
- A lab restart (``lab down`` / ``lab up``) starts a new epoch instead: no halt, the old ledger archived and still
  readable from the journal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fillpath import paths
from fillpath.lab.config_file import _table
from fillpath.lab.exchange import spawn_sim
from fillpath.lab.exchange.binance import SIM_BINANCE_OPTIONS
from fillpath.lab.manager import Lab
from fillpath.model.errors import LabError
from tests.cli.failures import Outcome, invoke_with_env

fp = invoke_with_env


def _sim_args(tmp_path: Path) -> list[str]:
    sim = tmp_path / "sim.toml"
    sim.write_text(
        '[[markets]]\nbase = "ETH"\nquote = "USDT"\nmid = "2500"\n\n'
        '[[accounts]]\napi_key = "desk-key"\nsecret = "desk-secret"\nbalances = { USDT = "1000", ETH = "2" }\n'
    )
    return ["--config", str(sim), "--walk-interval", "0"]


def _config(tmp_path: Path, url: str) -> Path:
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"api_key": "desk-key", "secret": "desk-secret"}))
    creds.chmod(0o600)
    cfg = tmp_path / "fillpath.toml"
    cfg.write_text(
        _table("", {"data_dir": tmp_path / "data"}).lstrip("\n")
        + _table("[locations.chain]", {"chain_id": 1, "rpc": ["http://127.0.0.1:9"]})  # no account here: not read
        + _table(
            "[exchanges.desk]",
            {"ccxt_id": "binance", "credentials_file": creds, "urls": {"api": url}, "options": SIM_BINANCE_OPTIONS},
        )
    )
    return cfg


def _json(res: Outcome) -> Any:
    return json.loads(res.out)


def test_an_exchange_that_comes_back_as_another_account_halts_until_an_operator_accepts(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    with spawn_sim(_sim_args(tmp_path)) as first:
        cfg = str(_config(tmp_path, first.url))
        opened = fp(env, "--config", cfg, "reconcile", "--json", "--listen", "0")
        assert opened.code == 0, opened.err
        assert {f["action"] for f in _json(opened)[0]["findings"]} == {"open"}
    with spawn_sim(_sim_args(tmp_path)) as second:  # the same venue, reset: another account id, new figures
        cfg = str(_config(tmp_path, second.url))
        import asyncio

        from fillpath.lab.exchange.binance import sim_binance

        async def trade() -> None:  # the reset account is not what the ledger says any more
            ex = sim_binance(second.url, "desk-key", "desk-secret")
            try:
                await ex.load_markets()
                await ex.create_order("ETH/USDT", "market", "sell", 0.5)
            finally:
                await ex.close()

        asyncio.run(trade())
        halted = fp(env, "--config", cfg, "reconcile", "--json", "--listen", "0")
        assert halted.code == 3, halted.err
        [p] = _json(halted)
        assert "reconcile --accept desk" in p["identity_changed"] and p["findings"] == []
        assert p["halted"] and "reconcile --accept desk" in p["halted"][0]
        text = fp(env, "--config", cfg, "reconcile", "--listen", "0")
        assert text.code == 3 and "reconcile --accept" in text.err and "Traceback" not in text.err
        venues = fp(env, "--config", cfg, "venues", "--json")
        assert {v["venue"]: v["state"] for v in _json(venues)}["desk"] == "halted"

        no_reason = fp(env, "--config", cfg, "reconcile", "--accept", "desk")
        assert no_reason.code == 2 and "--reason" in no_reason.err
        unknown = fp(env, "--config", cfg, "reconcile", "--accept", "dsk", "--reason", "x")
        assert unknown.code == 2 and "--accept" in unknown.err

        dry = fp(env, "--config", cfg, "reconcile", "--accept", "desk", "--reason", "simulator reset", "--json")
        assert dry.code == 0, dry.err
        plan = _json(dry)
        assert plan["dry_run"] is True and plan["audit_seq"] is None and plan["lifts_halt"] is True
        deltas = {a["asset"]: Decimal(a["delta"]) for a in plan["adjustments"]}
        assert deltas["ETH@desk"] == Decimal("-0.5") and deltas["USDT@desk"] > 0
        assert fp(env, "--config", cfg, "reconcile", "--listen", "0").code == 3  # the dry run changed nothing

        done = fp(env, "--config", cfg, "reconcile", "--accept", "desk", "--reason", "simulator reset", "--execute",
                  "--operator", "ops@desk")  # fmt: skip
        assert done.code == 0, done.err
        assert "accepted by ops@desk" in done.out and "halt is lifted" in done.out
        after = fp(env, "--config", cfg, "reconcile", "--json", "--listen", "0")
        assert after.code == 0, after.err
        [p] = _json(after)
        assert p["identity_changed"] is None and all(f["action"] == "ok" for f in p["findings"]), p
        assert {v["venue"]: v["state"] for v in _json(fp(env, "--config", cfg, "venues", "--json"))}["desk"] == "ok"
        [audit] = _json(fp(env, "--config", cfg, "events", "--kind", "balances.accepted", "--json"))
        assert audit["operator"] == "ops@desk" and audit["reason"] == "simulator reset"
        assert "ETH@desk=2" in audit["before"] and "ETH@desk=1.5" in audit["after"]


@pytest.mark.anvil
def test_a_lab_restart_starts_a_new_epoch_with_the_old_ledger_archived(tmp_path: Path) -> None:
    try:
        paths.binary("anvil")
    except LabError as exc:
        pytest.skip(f"no anvil here: {exc}")
    data = tmp_path / "lab"
    env = {"FILLPATH_DATA_DIR": str(data)}
    try:
        assert fp(env, "lab", "up").code == 0
        assert fp(env, "lab", "fund", "WETH@lab1=3", "ETH@labex=5", "ETH@labokx=7").code == 0
        first = fp(env, "reconcile", "--json", "--listen", "0")
        assert first.code == 0, first.err
        assert fp(env, "lab", "down").code == 0
        assert fp(env, "lab", "up").code == 0  # from the cache: fresh balances, the ledger still the old ones
        again = fp(env, "reconcile", "--json", "--listen", "0")
        assert again.code == 0, again.err
        passes = {p["venue"]: p for p in _json(again)}
        for venue in ("lab1", "lab2", "labex", "labokx"):
            assert "epoch 2" in (passes[venue]["identity_changed"] or ""), passes[venue]
            assert not passes[venue]["halted"]
        assert all(f["action"] == "ok" for p in passes.values() for f in p["findings"])
        epochs = _json(fp(env, "events", "--kind", "venue.identified", "--venue", "lab1", "--json"))
        assert [e["epoch"] for e in epochs] == ["1", "2"]
        assert f"WETH@lab1={3 * 10**18}" in epochs[-1]["archived"]  # epoch 1's ledger, still in the journal
        venues = _json(fp(env, "venues", "--json"))
        assert {v["venue"]: v["state"] for v in venues}["lab1"] == "ok"
    finally:
        Lab(data).down()
