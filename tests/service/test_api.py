"""The HTTP API against the running lab, in process (pytest-aiohttp's ``aiohttp_client``): shapes, strictness,
the start-up gate, halt/resume, metrics, the token."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fillpath.config import load_config_file
from fillpath.lab.manager import Lab
from fillpath.service.app import WATCHER, build_app
from tests.service.conftest import lab_dir, service_config

Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]


async def _ready(client: Any, timeout: float = 60) -> dict[str, Any]:
    for _ in range(int(timeout * 10)):
        status = await (await client.get("/api/status")).json()
        if status["ready"]:
            return dict(status)
        await asyncio.sleep(0.1)
    raise AssertionError("not ready")


def _no_floats(value: Any, where: str = "") -> None:
    """Amounts are strings in every answer; the only numbers are counts, scores, timings and seqs."""
    if isinstance(value, dict):
        for k, v in value.items():
            _no_floats(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_floats(v, f"{where}[{i}]")
    elif isinstance(value, float):
        last = where.rsplit(".", 1)[-1]
        assert last in NUMBERS or "timings" in where, where


NUMBERS = {"score", "penalty", "interval_s", "lag_s", "last_duration_ms", "age_s", "uptime_s", "venues_read_s_ago",
           "clock_offset_ms", "planned_ms", "snapshot_age_s"}  # fmt: skip


@pytest.fixture
async def client(aiohttp_client: MakeClient, anvil_lab: Any, tmp_path: Path) -> Any:
    Lab(lab_dir()).fund({"WETH@lab1": "5"})  # before the service's first pass: its opening balance
    cfg = load_config_file(service_config(tmp_path))
    c = await aiohttp_client(build_app(cfg))
    await _ready(c)
    return c


async def test_reads_answer_with_exact_amounts(client: Any) -> None:
    status = await (await client.get("/api/status")).json()
    assert status["phase"] == "ready" and status["journal_last_seq"] > 0
    assert {r["location"] for r in status["reconciliation"]} == {"lab1", "lab2", "labex", "labokx"}
    balances = await (await client.get("/api/balances")).json()
    locations = {r["asset"].split("@")[1] for r in balances["assets"]}
    assert locations == {"lab1", "lab2", "labex", "labokx"}
    for r in balances["assets"]:
        if r["ledger"] is not None and r["venue"] is not None:
            assert Decimal(r["drift"]) == Decimal(r["venue"]) - Decimal(r["ledger"])
    positions = (await (await client.get("/api/positions")).json())["positions"]
    assert "ETH" in positions and set(positions["ETH"]["locations"]) >= {"lab1", "labex"}
    venues = await (await client.get("/api/venues")).json()
    assert [v["venue"] for v in venues[:3]] == ["lab1", "lab2", "labex"]
    inflight = await (await client.get("/api/inflight")).json()
    assert inflight == {"orders": [], "transactions": [], "intents": []}
    events = await (await client.get("/api/events?last=3")).json()
    assert len(events) == 3 and events[0]["seq"] < events[-1]["seq"]
    started = await (await client.get("/api/events?kind=service.started")).json()
    assert started and started[0]["payload"]["pid"].isdigit()
    for body in (status, balances, positions, venues, events):
        _no_floats(body)
    bad = await client.get("/api/events?kind=nope")
    assert bad.status == 400 and (await bad.json())["field"] == "kind"


async def test_route_and_a_dry_run_swap_plan_on_the_fresh_snapshot(client: Any) -> None:
    r = await client.post("/api/route", json={"amount": "10", "sell": "WETH@lab1", "buy": "USDC", "max_hops": 2})
    body = await r.json()
    assert r.status == 200, body
    assert int(body["plan"]["expected_out"]) > 0 and body["planned_ms"] >= 0  # its speed: benchmarks, not a timed test
    s = await client.post("/api/swap", json={"amount": "1", "sell": "WETH@lab1", "buy": "USDC"})
    result = await s.json()
    assert s.status == 200, result
    assert result["mode"] == "dry_run" and result["timings_ms"]["snapshot"] < 5  # the cached snapshot
    executions = await (await client.get("/api/executions?limit=5")).json()
    assert executions[0]["execution_id"] == result["execution_id"]
    one = await (await client.get(f"/api/executions/{result['execution_id']}")).json()
    assert one["mode"] == "dry_run" and one["plan"]["format"] == "fillpath.plan/1"


async def test_requests_are_strict(client: Any) -> None:
    ask = {"amount": "1", "sell": "WETH@lab1", "buy": "USDC"}
    not_bool = await client.post("/api/swap", json={**ask, "execute": "yes"})
    assert not_bool.status == 400 and (await not_bool.json())["field"] == "execute"
    a_float = await client.post("/api/route", json={"amount": 1.5, "sell": "WETH@lab1", "buy": "USDC"})
    assert a_float.status == 400 and (await a_float.json())["field"] == "amount"
    unknown = await client.post("/api/route", json={"amount": "1", "sell": "WETH@nowhere", "buy": "USDC"})
    assert unknown.status == 400 and "nowhere" in (await unknown.json())["problem"]
    form = await client.post("/api/halt", data="venue=lab2")
    assert form.status == 415  # a browser form from another page cannot reach a write


async def test_halt_and_resume_reach_the_journal_and_the_health_view(client: Any) -> None:
    r = await client.post("/api/halt", json={"venue": "lab2", "reason": "maintenance"})
    assert r.status == 200 and (await r.json())["halted"] == "lab2"
    venues = {v["venue"]: v for v in await (await client.get("/api/venues")).json()}
    assert venues["lab2"]["state"] == "halted" and venues["lab2"]["reason"] == "maintenance"
    await client.post("/api/resume", json={"venue": "lab2"})
    venues = {v["venue"]: v for v in await (await client.get("/api/venues")).json()}
    assert venues["lab2"]["state"] == "ok"


async def test_the_gate_answers_503_until_ready(client: Any) -> None:
    client.app[WATCHER].ready.clear()
    try:
        r = await client.get("/api/balances")
        assert r.status == 503 and r.headers["Retry-After"] == "1"
        assert (await client.get("/api/status")).status == 200  # the status always answers
    finally:
        client.app[WATCHER].ready.set()
    assert (await client.get("/api/balances")).status == 200


async def test_metrics_cover_the_cold_path(client: Any) -> None:
    await asyncio.sleep(1.2)  # one interval: a pass per location
    text = await (await client.get("/metrics")).text()
    names = [
        'fillpath_reconcile_lag_seconds{location="labex"}',
        "fillpath_reconcile_duration_seconds_count",
        'fillpath_tracker_backlog{location="lab1"}',
        "fillpath_venue_request_seconds_count",
        "fillpath_journal_appends_total",
        "fillpath_venue_health_score",
        "fillpath_service_ready 1.0",
    ]
    for name in names:
        assert name in text, name


async def test_a_token_guards_the_api(
    aiohttp_client: MakeClient, anvil_lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FP_SERVICE_TOKEN", "t0ken")
    cfg = load_config_file(service_config(tmp_path, token_env="FP_SERVICE_TOKEN"))
    c = await aiohttp_client(build_app(cfg))
    assert (await c.get("/api/status")).status == 401
    assert (await c.get("/metrics")).status == 401
    assert (await c.get("/")).status == 200  # the page itself holds no data
    ok = await c.get("/api/status", headers={"Authorization": "Bearer t0ken"})
    assert ok.status == 200
    assert (await c.get("/api/status?token=t0ken")).status == 200  # EventSource's way
