"""Plans that leave a location, executed on the lab through the real engine: a bridge (lab1 → lab2 through the
lab spoke pools and the relayer process), a deposit to the exchange and a sale on its book, a withdrawal from the
exchange to a chain. Each time: every leg done, on-chain legs and the transfers realized exactly as expected,
the transfer journaled in the nautilus shape and final, nothing left in flight, and after one reconciliation pass
the ledger equals every venue."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fillpath.app import mover_specs
from fillpath.execution.result import LegStatus
from fillpath.model.events import (
    TransferAccepted,
    TransferCompleted,
    TransferRequested,
)
from fillpath.state.records import IntentStatus, TransferState
from fillpath.state.store import Store
from tests.conftest import Chain
from tests.execution.movers import cfg_for, drift, lab, relayer, sim, swap, trader


def _kinds(store: Store, transfer_id: str) -> list[str]:
    return [r.event.kind for r in store.events() if getattr(r.event, "transfer_id", None) == transfer_id]


def test_weth_on_lab1_to_usdc_on_lab2_goes_through_the_bridge(lab1: Chain, lab2: Chain, tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path)
    signer = trader({"lab1": lab1, "lab2": lab2}, {"lab1": {"WETH": 50}})
    with Store.open(cfg.resolved_database_url) as store:
        # the exchanges' deposits and withdrawals left out: on the session's shared lab, labex's books (moved by
        # other tests) can make deposit → book → withdrawal the better way to lab2, and this test is the bridge's
        exchange_movers = frozenset(m.id for m in mover_specs(cfg) if m.kind == "transfer")
        run = asyncio.run(swap(cfg, store, signer, "WETH@lab1", 50 * 10**18, "USDC@lab2", exclude=exchange_movers))
        assert run.result is not None
        result = run.result
        assert result.status == "done", [(x.venue, x.status, x.reason) for x in result.legs]
        bridge = [x for x in result.legs if x.venue.startswith("labbridge:")]
        assert len(bridge) == 1
        assert {x.asset_in.location for x in result.legs} >= {"lab1", "lab2"} or bridge[0].asset_out.location == "lab2"
        for leg in result.legs:  # nobody else trades on the lab chains: every leg is exact
            assert leg.status is LegStatus.DONE
            assert leg.realized_out == leg.expected_out, leg
        assert bridge[0].in_flight_ms is not None
        assert result.realized_out == result.expected_out
        (transfer,) = store.transfers().values()
        assert transfer.state is TransferState.COMPLETED
        assert transfer.received == bridge[0].realized_out
        assert _kinds(store, transfer.transfer_id) == ["transfer.requested", "transfer.accepted", "transfer.completed"]
        assert all(i.status is IntentStatus.GOOD for i in store.intents().values())
        assert not drift(run.passes), drift(run.passes)
        assert all(not p.in_flight for p in run.passes)
        d = result.decomposition
        assert d is not None and d.transfer_fees > 0
        assert sum(d.components.values()) == d.shortfall
    fills = [e for e in relayer("/admin/status")["log"] if e["what"] == "fill" and e["ok"]]
    assert fills, "the relayer filled the relay"


def test_weth_on_lab1_to_usdt_on_labex_deposits_and_sells_on_the_book(lab1: Chain, tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path)
    signer = trader({"lab1": lab1}, {"lab1": {"WETH": 20}})
    lab().fund({"ETH@labex": "0", "USDT@labex": "100000"})
    with Store.open(cfg.resolved_database_url) as store:
        run = asyncio.run(swap(cfg, store, signer, "WETH@lab1", 20 * 10**18, "USDT@labex"))
        assert run.result is not None
        legs = run.result.legs
        assert run.result.status == "done", [(x.venue, x.status, x.reason) for x in legs]
        (deposit,) = [x for x in legs if ":deposit:" in x.venue]
        assert deposit.realized_out == deposit.expected_out == 20 * 10**18  # the exchange credits all of it
        assert any(x.asset_in.location == "labex" and x.status is LegStatus.DONE for x in legs)  # sold on a book
        (transfer,) = store.transfers().values()
        assert transfer.state is TransferState.COMPLETED
        assert not drift(run.passes), drift(run.passes)
    deposits = [d for d in sim("/admin/capital")["deposits"] if d["tx_hash"].lower() == deposit.ref.lower()]
    assert len(deposits) == 1 and deposits[0]["status"] in (1, 6)


def test_usdc_withdrawn_from_labex_lands_on_lab2(lab2: Chain, tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path)
    signer = trader({"lab2": lab2}, {})
    lab().fund({"USDC@labex": "25000"})
    with Store.open(cfg.resolved_database_url) as store:
        run = asyncio.run(swap(cfg, store, signer, "USDC@labex", 20_000 * 10**6, "USDC@lab2"))
        assert run.result is not None
        (leg,) = run.result.legs
        assert leg.status is LegStatus.DONE, leg
        assert leg.realized_out == leg.expected_out == (20_000 - 1) * 10**6  # the exchange's fee: 1 USDC
        (transfer,) = store.transfers().values()
        assert transfer.state is TransferState.COMPLETED
        kinds = [type(r.event) for r in store.events() if getattr(r.event, "transfer_id", None)]
        assert kinds == [TransferRequested, TransferAccepted, TransferCompleted]
        assert not drift(run.passes), drift(run.passes)
        client_id = store.intent(transfer.transfer_id).ref  # type: ignore[union-attr]
    (w,) = [w for w in sim("/admin/capital")["withdrawals"] if w["client_id"] == client_id]  # one per client id
    assert w["status"] == 6 and w["id"] == transfer.ref
