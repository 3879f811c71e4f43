"""``fillpath run`` as a process: one per data directory, a clean SIGTERM (journaled, under 5 s), and a kill -9
mid-swap followed by a restart that loses and duplicates nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

from fillpath.config import load_config_file
from fillpath.lab.manager import Lab
from fillpath.model.events import ExecutionFinished, ExecutionStarted, ServiceStarted, ServiceStopped
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from tests.cli.failures import completed
from tests.service.conftest import ServiceProcess, admin, call, lab_dir, service_config


def test_sigterm_stops_cleanly_and_a_second_start_is_refused(
    service_proc: list[ServiceProcess], tmp_path: Path
) -> None:
    config = service_config(tmp_path)
    first = ServiceProcess(config)
    service_proc.append(first)
    first.wait_ready()
    second = subprocess.run([sys.executable, "-m", "fillpath", "--config", str(config), "run", "--port", "0"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert second.returncode == 1
    assert f"another `fillpath run` (pid {first.proc.pid}, {first.url}) already serves" in second.stderr
    # the CLI asks the running service (found through <data dir>/service.json) instead of the venues
    cli = ["--config", str(config), "--service", "auto"]  # in this process: the service does the work
    venues = completed({}, *cli, "venues", "--json")
    assert venues.returncode == 0, venues.stderr
    assert [v["venue"] for v in json.loads(venues.stdout)][:3] == ["lab1", "lab2", "labex"]
    held = completed({}, *cli, "balances", "--json")
    assert held.returncode == 0 and json.loads(held.stdout)["assets"], held.stderr
    bad = completed({}, *cli, "swap", "1", "WETH@nowhere", "USDC")
    assert bad.returncode == 2 and "nowhere" in bad.stderr  # the service's 400 is the CLI's usage error
    t = time.monotonic()
    assert first.stop(signal.SIGTERM) == 0
    took = time.monotonic() - t
    assert took < 5.0, took
    with Store.open(load_config_file(config).resolved_database_url) as store:
        events = [r.event for r in store.events()]
    assert isinstance(events[-1], ServiceStopped) and events[-1].reason == "SIGTERM"
    assert sum(isinstance(e, ServiceStarted) for e in events) == 1  # the refused start wrote nothing


def call_rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["result"]


def test_kill_9_mid_swap_then_restart_loses_and_duplicates_nothing(
    service_proc: list[ServiceProcess], anvil_lab: Any, tmp_path: Path
) -> None:
    Lab(lab_dir()).fund({"ETH@labex": "20"})
    config = service_config(tmp_path)
    db = load_config_file(config).resolved_database_url
    first = ServiceProcess(config)
    service_proc.append(first)
    first.wait_ready()
    seen = {r["seq"] for r in admin("/admin/requests")}
    admin("/admin/faults", {"profiles": {"delayed_fills": {"delay": "3", "rate": "1"}}})
    answer: list[Any] = []

    def swap() -> None:
        try:
            ask = {"amount": "2", "sell": "ETH@labex", "buy": "USDT@labex", "execute": True, "max_hops": 1}
            answer.append(call(first.url, "/api/swap", ask))
        except (urllib.error.URLError, ConnectionError) as exc:
            answer.append(exc)

    try:
        worker = threading.Thread(target=swap)
        worker.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the order is at the exchange, its fills 3 s away
            if any(r["seq"] not in seen and r["kind"] == "new" for r in admin("/admin/requests")):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        worker.join(30)
    finally:
        admin("/admin/faults", {"profiles": {}})
    assert answer and isinstance(answer[0], Exception)  # the swap died with the service
    with Store.open(db) as store:
        started = [r.event for r in store.events() if isinstance(r.event, ExecutionStarted)]
        assert started and any(i.status is IntentStatus.OPEN for i in store.intents().values())
    eid = started[-1].execution_id
    time.sleep(3)  # the delayed fills land at the exchange meanwhile
    second = ServiceProcess(config)
    service_proc.append(second)
    status = second.wait_ready()
    assert status["recovered"] and all(r["outcome"] != "unknown" for r in status["recovered"]), status["recovered"]
    with Store.open(db) as store:
        events = [r.event for r in store.events()]
        assert all(i.status is not IntentStatus.OPEN for i in store.intents().values())
        # an order's client id is derived from its intent's (the intent keeps it as its ref)
        cids = {i.ref for i in store.intents().values() if i.intent_id.startswith(eid) and i.action == "cex.order"}
        trade_ids = [(r.event.venue, r.event.trade_id) for r in store.events() if r.event.kind.startswith("order.") and
                     hasattr(r.event, "trade_id")]  # fmt: skip
    assert not any(isinstance(e, ExecutionFinished) and e.execution_id == eid for e in events)  # interrupted
    assert sum(isinstance(e, ServiceStarted) for e in events) == 2
    assert not any(isinstance(e, ServiceStopped) for e in events)  # the kill left no stop record
    assert len(trade_ids) == len(set(trade_ids))  # every fill once
    requests = [r for r in admin("/admin/requests") if r["client_order_id"] in cids]
    placed = [r["client_order_id"] for r in requests if r["kind"] == "new" and r["outcome"] != "rejected"]
    assert placed and len(placed) == len(set(placed)) and set(placed) <= cids  # one order per client id
    trader = load_config_file(config).accounts["trader"].address
    rpc = anvil_lab["lab1"].rpc_url
    latest, pending = (
        int(call_rpc(rpc, "eth_getTransactionCount", [trader, tag]), 16) for tag in ("latest", "pending")
    )
    assert latest == pending  # one transaction per nonce: nothing stuck behind a gap
    execution = call(second.url, f"/api/executions/{eid}")
    assert execution["status"] == "interrupted" and all(v != "unknown" for v in execution["intents"].values())
    for _ in range(100):  # after a pass, the ledger equals every venue
        rows = call(second.url, "/api/balances")["assets"]
        if all(r["venue"] is not None and Decimal(r["drift"]) == 0 for r in rows):
            break
        time.sleep(0.1)
    assert all(r["venue"] is not None and Decimal(r["drift"]) == 0 for r in rows), rows
    assert second.stop(signal.SIGTERM) == 0
