"""Every bridge and deposit/withdrawal fault profile, on the lab through the real engine. Each run ends with no
loss (what left a venue arrived, came back, or is in flight in the books), no duplicate (one relay fill, one
deposit credit, one withdrawal per client id), and a reconciliation pass in which the ledger equals every venue:
funds in flight are counted, never called drift. What a run leaves in flight, ``recover`` settles from the
venues once they answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fillpath.app import mover_specs
from fillpath.config import lab_config_path
from fillpath.execution.result import LegStatus
from fillpath.model.assets import AssetId
from fillpath.state.records import IntentStatus, TransferState
from fillpath.state.store import Store
from tests.conftest import Chain
from tests.execution.movers import cfg_for, drift, lab, relayer, sim, swap, trader

USDC1, USDC2, USDC_X = AssetId("USDC", "lab1"), AssetId("USDC", "lab2"), AssetId("USDC", "labex")


@pytest.fixture
def faults() -> Iterator[None]:
    """Whatever a test switches on at the relayer or the simulator is off again afterwards."""
    yield
    relayer("/admin/faults", {"profiles": {}})
    sim("/admin/faults", {"profiles": {}})


def bridge_only(cfg: Any) -> frozenset[str]:
    """The exchanges' deposits and withdrawals left out: on the session's shared lab, labex's books (moved by other
    tests) can make deposit → book → withdrawal the better way to lab2 (seen: a book leg and a withdrawal rounded to
    the exchange's precision, realized ≠ expected), and these tests are the bridge's."""
    return frozenset(m.id for m in mover_specs(cfg) if m.kind == "transfer")


def _relay_fills(after_ns: int) -> list[dict[str, object]]:
    return [e for e in relayer("/admin/status")["log"] if e["what"] == "fill" and int(e["at_ns"]) > after_ns]


# --- the bridge -----------------------------------------------------------------------------------------------


def test_slow_fill_arrives_late_and_whole(lab1: Chain, lab2: Chain, tmp_path: Path, faults: None) -> None:
    relayer("/admin/faults", {"profiles": {"slow_fill": {"delay": "2"}}})
    cfg, signer = cfg_for(tmp_path), trader({"lab1": lab1, "lab2": lab2}, {"lab1": {"USDC": 5000}})
    with Store.open(cfg.resolved_database_url) as store:
        run = asyncio.run(swap(cfg, store, signer, "USDC@lab1", 5000 * 10**6, "USDC@lab2", exclude=bridge_only(cfg)))
        assert run.result is not None and run.result.status == "done"
        legs = [(x.venue, x.amount_in, x.expected_out, x.realized_out) for x in run.result.legs]
        assert all(x.realized_out == x.expected_out for x in run.result.legs), legs
        bridges = [x for x in run.result.legs if x.venue.startswith("labbridge:")]
        assert all(x.in_flight_ms is not None and x.in_flight_ms >= 1500 for x in bridges)
        assert store.balance(USDC2) == run.result.realized_out
        assert not drift(run.passes), drift(run.passes)


def test_no_fill_is_refunded_after_the_deadline_and_nothing_trades_on_it(
    lab1: Chain, lab2: Chain, tmp_path: Path, faults: None
) -> None:
    """The relayer never fills: the deadline passes on lab2 (the transfer expires), the settler refunds on lab1,
    the engine books the refund, fails the leg (its input is back) and does not trade the money that never came."""
    relayer("/admin/faults", {"profiles": {"no_fill": {}}})
    cfg = cfg_for(tmp_path)
    signer = trader({"lab1": lab1, "lab2": lab2}, {"lab1": {"USDC": 5000}})
    with Store.open(cfg.resolved_database_url) as store:
        only = bridge_only(cfg)
        run = asyncio.run(swap(cfg, store, signer, "USDC@lab1", 5000 * 10**6, "USDC@lab2", max_replans=1, exclude=only))
        assert run.result is not None and run.result.realized_out == 0
        bridges = [x for x in run.result.legs if x.venue.startswith("labbridge:")]
        assert bridges and all(x.status is LegStatus.FAILED and "refunded" in (x.reason or "") for x in bridges)
        after = [x for x in run.result.legs if x.asset_in.location == "lab2"]
        assert all(x.status is LegStatus.FAILED for x in after)  # never executed against money that did not arrive
        transfers = list(store.transfers().values())  # the re-plan may try another bridge route: refunded too
        assert transfers and all(t.state is TransferState.REFUNDED for t in transfers)
        assert all(t.refunded == t.amount for t in transfers)
        for t in transfers:
            kinds = [r.event.kind for r in store.events() if getattr(r.event, "transfer_id", None) == t.transfer_id]
            assert kinds == ["transfer.requested", "transfer.accepted", "transfer.expired", "transfer.refunded"]
        assert store.balance(USDC2) in (None, 0)
        if len(transfers) == 1:
            assert store.balance(USDC1) == 5000 * 10**6  # the whole input is back: only gas was spent
        assert all(i.status is not IntentStatus.OPEN for i in store.intents().values())
        assert not drift(run.passes), drift(run.passes)
    assert not _relay_fills(min(t.since_ns for t in transfers))


def test_partial_liquidity_fills_whole_relays_or_none(lab1: Chain, lab2: Chain, tmp_path: Path, faults: None) -> None:
    """Across fills a relay entirely or not at all: with inventory for 1,000 USDC, a 600 USDC transfer is filled
    and a 3,000 USDC one is refunded (never half-filled)."""
    relayer("/admin/faults", {"profiles": {"partial_liquidity": {"max_output": str(1000 * 10**6)}}})
    cfg = cfg_for(tmp_path)
    signer = trader({"lab1": lab1, "lab2": lab2}, {"lab1": {"USDC": 3600}})
    with Store.open(cfg.resolved_database_url) as store:
        small = asyncio.run(swap(cfg, store, signer, "USDC@lab1", 600 * 10**6, "USDC@lab2", exclude=bridge_only(cfg)))
        big = asyncio.run(swap(cfg, store, signer, "USDC@lab1", 3000 * 10**6, "USDC@lab2", exclude=bridge_only(cfg)))
        assert small.result is not None and big.result is not None
        assert small.result.legs[0].status is LegStatus.DONE
        assert big.result.legs[0].status is LegStatus.FAILED
        states = sorted(str(t.state) for t in store.transfers().values())
        assert states == ["completed", "refunded"]
        assert store.balance(USDC1) == 3000 * 10**6
        assert store.balance(USDC2) == small.result.legs[0].realized_out
        assert not drift(big.passes), drift(big.passes)


def test_relayer_restart_mid_flight_fills_once(lab1: Chain, lab2: Chain, tmp_path: Path, faults: None) -> None:
    """The relayer is killed (SIGKILL) while a deposit waits, and started again: it finds the deposit on the chain
    and fills it, once."""
    relayer("/admin/faults", {"profiles": {"paused": {}}})
    cfg, signer = cfg_for(tmp_path), trader({"lab1": lab1, "lab2": lab2}, {"lab1": {"USDC": 2000}})
    start = time.time_ns()

    async def go(store: Store) -> object:
        async def restart_when_in_flight() -> None:
            while not any(t.state is TransferState.ACCEPTED for t in store.transfers().values()):
                await asyncio.sleep(0.05)
            await asyncio.to_thread(lab().restart_relayer, kill=True)  # comes back without the pause

        restarting = asyncio.ensure_future(restart_when_in_flight())
        run = await swap(cfg, store, signer, "USDC@lab1", 2000 * 10**6, "USDC@lab2", exclude=bridge_only(cfg))
        await restarting
        return run

    with Store.open(cfg.resolved_database_url) as store:
        run = asyncio.run(go(store))
        assert run.result is not None  # type: ignore[attr-defined]
        (leg,) = run.result.legs  # type: ignore[attr-defined]
        assert leg.status is LegStatus.DONE
        assert not drift(run.passes), drift(run.passes)  # type: ignore[attr-defined]
    assert len(_relay_fills(start)) == 1


# --- the exchange's wallet ------------------------------------------------------------------------------------


def test_delayed_credit_completes_late(lab1: Chain, tmp_path: Path, faults: None) -> None:
    sim("/admin/faults", {"profiles": {"delayed_credit": {"delay": "1.5"}}})
    lab().fund({"ETH@labex": "0"})
    cfg, signer = cfg_for(tmp_path), trader({"lab1": lab1}, {"lab1": {"WETH": 2}})
    with Store.open(cfg.resolved_database_url) as store:
        run = asyncio.run(swap(cfg, store, signer, "WETH@lab1", 2 * 10**18, "ETH@labex"))
        assert run.result is not None
        deposit = next(x for x in run.result.legs if ":deposit:" in x.venue)
        assert deposit.status is LegStatus.DONE and deposit.realized_out == 2 * 10**18
        assert deposit.in_flight_ms is not None and deposit.in_flight_ms >= 1500
        assert store.balance(AssetId("ETH", "labex")) == Decimal(2)
        assert not drift(run.passes), drift(run.passes)


def test_a_credit_later_than_the_swap_waits_is_in_flight_then_recovered(
    lab1: Chain, tmp_path: Path, faults: None
) -> None:
    sim("/admin/faults", {"profiles": {"delayed_credit": {"delay": "3"}}})
    lab().fund({"ETH@labex": "0"})
    cfg, signer = cfg_for(tmp_path, wait_s=0.5), trader({"lab1": lab1}, {"lab1": {"WETH": 2}})
    with Store.open(cfg.resolved_database_url) as store:
        run = asyncio.run(swap(cfg, store, signer, "WETH@lab1", 2 * 10**18, "ETH@labex"))
        assert run.result is not None and run.result.status == "unknown"
        (transfer,) = store.transfers().values()
        assert transfer.state is TransferState.ACCEPTED  # taken on lab1, not credited yet: in flight
        assert not drift(run.passes), drift(run.passes)  # counted, not drift
        (arriving,) = [t for p in run.passes for t in p.in_flight]
        assert arriving.target == AssetId("ETH", "labex")
        later = asyncio.run(swap(cfg_for(tmp_path, wait_s=10), store, signer, "", 0, "", recover_first=True))
        assert [r.outcome for r in later.resolved] == ["good"]
        assert store.transfer(transfer.transfer_id).state is TransferState.COMPLETED  # type: ignore[union-attr]
        assert store.balance(AssetId("ETH", "labex")) == Decimal(2)
        assert not drift(later.passes), drift(later.passes)
    credits = [d for d in sim("/admin/capital")["deposits"] if d["tx_hash"].lower() == (transfer.ref or "").lower()]
    assert len(credits) == 1


def _balances_cli(tmp_path: Path) -> Any:
    cfg = tmp_path / "fillpath.toml"  # the running lab's configuration, with the test's journal
    lab_toml = lab_config_path(Path(os.environ["FILLPATH_TEST_LAB_DIR"])).read_text()
    cfg.write_text(f'database_url = "sqlite:///{tmp_path}/x.db"\n' + lab_toml)
    res = subprocess.run([sys.executable, "-m", "fillpath", "--config", str(cfg), "balances", "--json", "--refresh"],
                         capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return json.loads(res.stdout)


def _withdraw(tmp_path: Path, lab2: Chain, wait_s: float) -> tuple[Store, object, object]:
    lab().fund({"USDC@labex": "1000"})
    cfg, signer = cfg_for(tmp_path, wait_s=wait_s), trader({"lab2": lab2}, {})
    store = Store.open(cfg.resolved_database_url)
    run = asyncio.run(swap(cfg, store, signer, "USDC@labex", 500 * 10**6, "USDC@lab2"))
    return store, run, signer


def test_a_stuck_withdrawal_stays_in_flight_then_lands(lab2: Chain, tmp_path: Path, faults: None) -> None:
    sim("/admin/faults", {"profiles": {"withdraw_stuck": {}}})
    store, run, signer = _withdraw(tmp_path, lab2, 0.5)
    with store:
        (leg,) = run.result.legs  # type: ignore[attr-defined]
        assert leg.status is LegStatus.UNKNOWN
        (transfer,) = store.transfers().values()
        assert transfer.state is TransferState.ACCEPTED
        assert store.balance(USDC_X) == Decimal(500)  # the exchange took 500: the ledger agrees, 499 in flight
        assert not drift(run.passes), drift(run.passes)  # type: ignore[attr-defined]
        shown = _balances_cli(tmp_path)  # `fillpath balances` shows it in flight, where it will land
        (flying,) = shown["in_flight"]
        assert (flying["source"], flying["target"]) == ("USDC@labex", "USDC@lab2")
        assert (Decimal(flying["amount"]), Decimal(flying["expected_out"])) == (500, 499)
        assert flying["state"] == "accepted" and flying["since"] and flying["expected_arrival"]
        assert Decimal({r["asset"]: r["in_flight"] for r in shown["assets"]}["USDC@lab2"]) == 499
        sim("/admin/faults", {"profiles": {}})
        later = asyncio.run(swap(cfg_for(tmp_path, wait_s=10), store, signer, "", 0, "", recover_first=True))  # type: ignore[arg-type]
        assert [r.outcome for r in later.resolved] == ["good"]
        assert store.balance(USDC2) == 499 * 10**6
        assert not drift(later.passes), drift(later.passes)
    assert len([w for w in sim("/admin/capital")["withdrawals"] if w["id"] == transfer.ref]) == 1


def test_a_withdrawal_reported_sent_that_never_lands_is_never_booked(lab2: Chain, tmp_path: Path, faults: None) -> None:
    sim("/admin/faults", {"profiles": {"withdraw_phantom": {}}})
    store, run, signer = _withdraw(tmp_path, lab2, 0.5)
    with store:
        (leg,) = run.result.legs  # type: ignore[attr-defined]
        assert leg.status is LegStatus.UNKNOWN
        again = cfg_for(tmp_path, wait_s=0.5)
        later = asyncio.run(swap(again, store, signer, "", 0, "", recover_first=True, recover_wait_s=1.0))  # type: ignore[arg-type]
        assert [r.outcome for r in later.resolved] == ["unknown"]  # the exchange says sent; the chain does not
        (transfer,) = store.transfers().values()
        assert transfer.state is TransferState.ACCEPTED and transfer.received is None
        assert store.balance(USDC2) in (None, 0)
        assert not drift(later.passes), drift(later.passes)


def test_a_failed_withdrawal_returns_the_amount(lab2: Chain, tmp_path: Path, faults: None) -> None:
    sim("/admin/faults", {"profiles": {"withdraw_fail": {}}})
    store, run, _ = _withdraw(tmp_path, lab2, 10)
    with store:
        (leg,) = run.result.legs  # type: ignore[attr-defined]
        assert leg.status is LegStatus.FAILED
        (transfer,) = store.transfers().values()
        assert transfer.state is TransferState.REFUNDED
        assert store.balance(USDC_X) == Decimal(1000)
        assert not drift(run.passes), drift(run.passes)  # type: ignore[attr-defined]
