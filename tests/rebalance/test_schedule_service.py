"""Scheduled rebalancing inside ``fillpath run`` (real processes on the session's lab): exactly one run per slot, a
kill -9 in the middle of a run followed by a restart that runs no slot twice and no move twice, and two service
starts that share no slot."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fillpath.config import load_config_file
from fillpath.lab.manager import Lab
from fillpath.model.events import RebalanceRunStarted, TransferCompleted, TransferRequested
from fillpath.rebalance.schedule import NS
from fillpath.state.rebalance_runs import RebalanceRuns
from fillpath.state.store import Store
from tests.cli.failures import invoke
from tests.conftest import Chain
from tests.rebalance.test_rebalance_lab import SKEWED
from tests.service.conftest import admin, lab_dir, service_config


class Service:
    """``fillpath run --policy FILE`` in a child process."""

    def __init__(self, config: Path, policy: Path, env: dict[str, str] | None = None) -> None:
        argv = [
            sys.executable,
            "-m",
            "fillpath",
            "--config",
            str(config),
            "run",
            "--port",
            "0",
            "--policy",
            str(policy),
        ]
        self.proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not re.search(r"http://[0-9.:]+", line):
            self.proc.kill()
            raise AssertionError(f"no URL from the service: {line!r} {self.proc.stderr.read()[-3000:]}")  # type: ignore[union-attr]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


@pytest.fixture
def services(lab1: Chain, lab2: Chain) -> Any:
    started: list[Service] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait(10)


def policy_file(tmp_path: Path, every_s: int) -> Path:
    """The issue's policy. lab2's ETH is kept (a reserve): the 8 ETH for labex come from lab1 by one deposit, not by
    six legs through lab2's pool and the bridge when lab2's WETH sells dearer (each leg seconds of a slot's run)."""
    path = tmp_path / "spread.toml"
    path.write_text(textwrap.dedent(f"""
        band = "2%"
        max_cost_bps = 50
        reserve = {{ "ETH@lab2" = "1000" }}
        [[targets]]
        asset = "USDC@lab1"
        share = "50%"
        [[targets]]
        asset = "USDC@lab2"
        share = "50%"
        [[targets]]
        asset = "ETH@labex"
        amount = "10"
        [schedule]
        every_s = {every_s}
        missed = "skip"
    """))  # fmt: skip
    return path


# the every-2s case proves the properties in the default suite; the issue's own figure (every 10 s for a
# minute) is the same test, slow
@pytest.mark.parametrize(
    ("every_s", "seconds", "failpoint"),
    [
        pytest.param(2, 30, "transfer_sent", id="every-2s-killed-with-a-bridge-in-flight"),
        pytest.param(10, 60, "rebalance_claimed", id="every-10s-one-minute-killed-after-the-claim",
                     marks=pytest.mark.slow),
    ],
)  # fmt: skip
def test_kill_9_mid_run_and_restart_run_no_slot_twice(
    services: list[Service], tmp_path: Path, every_s: int, seconds: int, failpoint: str
) -> None:
    Lab(lab_dir()).fund(SKEWED)
    config, policy = service_config(tmp_path), policy_file(tmp_path, every_s)
    begun = time.monotonic()
    # the first service dies by kill -9 in its first run with moves: right after claiming the slot, or once its first
    # bridge is final and booked with the funds in flight (the rest of the run not done)
    first = Service(config, policy, {"FILLPATH_FAILPOINT": failpoint})
    services.append(first)
    assert first.proc.wait(120) == -signal.SIGKILL
    second = Service(config, policy)
    services.append(second)
    cfg = load_config_file(config)
    # the service's time (``seconds`` in all), and at least until the rest has been done and a slot found the lab
    # inside its bands (a loaded machine may need longer)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        time.sleep(every_s)
        with Store.open(cfg.resolved_database_url) as store:
            statuses = [r.status for r in reversed(RebalanceRuns(store).history(limit=1000))]
        settled = "done" in statuses and statuses[-1] == "nothing"
        if (settled and time.monotonic() - begun >= seconds) or second.proc.poll() is not None:
            break
    assert second.stop() == 0

    with Store.open(cfg.resolved_database_url) as store:
        started = [r.event for r in store.events() if isinstance(r.event, RebalanceRunStarted)]
        runs = sorted(RebalanceRuns(store).history(limit=1000), key=lambda r: r.slot_ns or 0)
    # exactly one run per slot: one claim per run id, and every slot from the first to the last is there once
    assert started and max(Counter(e.run_id for e in started).values()) == 1
    slots = [r.slot_ns for r in runs]
    assert all(s is not None for s in slots)
    assert [b - a for a, b in itertools.pairwise(slots)] == [every_s * NS] * (len(slots) - 1)
    # the killed run is interrupted, never run again; the two starts share no slot
    crashed = [r for r in runs if r.status == "interrupted"]
    assert len(crashed) == 1 and crashed[0].owner == f"pid {first.proc.pid}"
    owners = {r.owner for r in runs}
    assert owners == {f"pid {first.proc.pid}", f"pid {second.proc.pid}"}
    mine = [r for r in runs if r.owner == f"pid {first.proc.pid}"]
    assert mine == crashed, "the first service ran nothing else"
    statuses = [r.status for r in runs if r.owner == f"pid {second.proc.pid}"]
    # the rest of the moves done once, then inside the bands
    assert "done" in statuses and statuses[-1] == "nothing", [(r.run_id, r.status, r.reason) for r in runs]
    assert not {"failed", "partial"} & set(statuses), [(r.run_id, r.status, r.reason) for r in runs]

    # no move twice: one request per transfer, each landed and booked once, the ledger equal to every venue, the
    # lab inside its bands (a second deposit would leave 18 ETH on labex)
    with Store.open(cfg.resolved_database_url) as store:
        events = [r.event for r in store.events()]
        assert not [t for t in store.transfers().values() if t.state not in ("completed",)], store.transfers()
    requested = Counter(e.transfer_id for e in events if isinstance(e, TransferRequested))
    landed = Counter(e.transfer_id for e in events if isinstance(e, TransferCompleted))
    assert requested and set(requested.values()) == {1} and landed == requested
    rec = invoke(["--config", str(config), "reconcile", "--json", "--listen", "0"])  # in this process: no imports
    assert rec.code == 0, rec.err
    assert all(f["action"] == "ok" for v in json.loads(rec.out) for f in v["findings"]), rec.out
    # the last slots found the lab inside its bands (above); labex holds the 8 ETH once
    last = runs[-1]
    assert (last.status, last.reason) == ("nothing", "inside its bands"), last
    eth = admin(f"/admin/balances?api_key={Lab(lab_dir()).exchange_credentials().api_key}")["ETH"]
    assert Decimal(eth["free"]) + Decimal(eth["locked"]) == 10
