"""The service's parts that need no venue: configuration, the instance lock, the feed, request parsing, the
scheduler seam, the metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fillpath.config import Config, ServiceConfig, load_config_file
from fillpath.model.errors import FillpathError, InvalidInput
from fillpath.model.events import Recorded, ServiceStarted, ServiceStopped, event_from_payload, event_to_payload
from fillpath.service.app import api_token
from fillpath.service.hub import EventHub
from fillpath.service.instance import InstanceLock, ServiceInfo, read_info
from fillpath.service.metrics import ServiceMetrics
from fillpath.service.operations import TradeAsk
from fillpath.service.scheduler import Scheduler


def test_service_section_is_validated(tmp_path: Path) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text('[exchanges.x]\nccxt_id = "binance"\n[service]\nport = 9000\nreconcile_intervals = {x = 0.5}\n')
    loaded = load_config_file(cfg)
    assert loaded.service.port == 9000
    assert loaded.service.interval_for("x") == 0.5
    assert loaded.service.interval_for("other") == ServiceConfig().reconcile_interval_s
    for bad, words in [
        ("[service]\nreconcile_interval_s = 0\n", "reconcile_interval_s"),
        ("[service]\nport = 70000\n", "port"),
        ('[service]\ntoken_env = "not a name"\n', "environment variable"),
        ('[exchanges.x]\nccxt_id = "binance"\n[service]\nreconcile_intervals = {y = 1}\n', "not a configured"),
        ("[service]\nreconcile_intervals = {x = -1}\n", "reconcile_intervals.x"),
        ("[service]\nhots = 1\n", "hots"),
    ]:
        cfg.write_text(bad)
        with pytest.raises(InvalidInput) as exc:
            load_config_file(cfg)
        assert words in str(exc.value), (bad, str(exc.value))


def test_a_token_is_required_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config()
    assert api_token(cfg, "127.0.0.1") == ""
    with pytest.raises(InvalidInput, match="beyond loopback"):
        api_token(cfg, "0.0.0.0")
    with_env = Config(service=ServiceConfig(token_env="FP_TOKEN"))
    monkeypatch.delenv("FP_TOKEN", raising=False)
    with pytest.raises(InvalidInput, match=r"\$FP_TOKEN"):
        api_token(with_env, "0.0.0.0")
    monkeypatch.setenv("FP_TOKEN", "s3cret")
    assert api_token(with_env, "0.0.0.0") == "s3cret"


def test_one_service_per_data_directory(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path)
    first.acquire()
    first.publish(ServiceInfo("http://127.0.0.1:1234", 4321, 1, False))
    assert read_info(tmp_path) == ServiceInfo("http://127.0.0.1:1234", 4321, 1, False)
    with pytest.raises(FillpathError, match=r"another `fillpath run` \(pid 4321, http://127.0.0.1:1234\)"):
        InstanceLock(tmp_path).acquire()
    first.release()
    assert read_info(tmp_path) is None  # no lock held: a file left behind would not count either
    second = InstanceLock(tmp_path)
    second.acquire()
    second.release()


def test_service_events_round_trip() -> None:
    started = ServiceStarted("fillpath", 12, "http://127.0.0.1:1", "0.1.0")
    for e in (started, ServiceStopped("fillpath", 12, "SIGTERM", 5)):
        assert event_from_payload(e.kind, event_to_payload(e)) == e


async def test_the_feed_replays_then_follows_and_closes() -> None:
    hub = EventHub(recent=3)
    for seq in range(1, 6):
        hub.publish(Recorded(seq, seq, None, ServiceStopped("fillpath", 1, "x", seq)))
    assert [e["seq"] for e in hub.recent] == [3, 4, 5]
    sub = hub.subscribe(after_seq=3)
    assert (await sub.next(1))["seq"] == 4  # type: ignore[index]
    assert (await sub.next(1))["seq"] == 5  # type: ignore[index]
    hub.publish(Recorded(6, 6, None, ServiceStopped("fillpath", 1, "x", 6)))
    got = await sub.next(1)
    assert got is not None and got["seq"] == 6 and got["payload"]["uptime_ms"] == "6"
    with pytest.raises(TimeoutError):
        await sub.next(0.05)
    hub.close()
    assert await sub.next(1) is None


def test_a_trade_request_is_strict() -> None:
    ask = TradeAsk.parse({"amount": "1.5", "sell": "WETH@lab1", "buy": "USDC", "execute": True}, swap=True)
    assert ask.execute is True and ask.amount == "1.5"
    assert TradeAsk.parse({"amount": "1", "sell": "A", "buy": "B"}, swap=True).execute is False
    for body, field in [
        ({"amount": 1.5, "sell": "A", "buy": "B"}, "amount"),  # a float is never an amount
        ({"amount": "1", "sell": "A", "buy": "B", "execute": "true"}, "execute"),  # only a JSON true trades
        ({"amount": "1", "sell": "A"}, "buy"),
        ({"amount": "1", "sell": "A", "buy": "B", "max_hops": "3"}, "max_hops"),
        ({"amount": "1", "sell": "A", "buy": "B", "dry": True}, "dry"),
    ]:
        with pytest.raises(InvalidInput) as exc:
            TradeAsk.parse(body, swap=True)
        assert exc.value.field == field
    with pytest.raises(InvalidInput, match="execute"):
        TradeAsk.parse({"amount": "1", "sell": "A", "buy": "B", "execute": False}, swap=False)


class _Every:
    def __init__(self, name: str, every: float) -> None:
        self.name, self.every, self.ran = name, every, 0

    def next_due(self, now_s: float) -> float | None:
        return now_s + self.every if self.ran < 3 else None

    async def run(self, ops: object) -> None:
        self.ran += 1
        if self.ran == 2:
            raise RuntimeError("boom")


async def test_the_scheduler_runs_jobs_when_due_and_survives_their_failures() -> None:
    job = _Every("j", 0.01)
    sched, stop = Scheduler([job]), asyncio.Event()
    await asyncio.wait_for(sched.run(object(), stop), timeout=5)  # ends: the job is never due again
    assert job.ran == 3
    (state,) = sched.status()
    assert state["runs"] == 3 and state["last_error"] is None and state["next_due"] is None


def test_metrics_render_in_prometheus_text() -> None:
    m = ServiceMetrics()
    m.reconcile_seconds.labels("lab1").observe(0.01)
    m.journaled(Recorded(1, 1, None, ServiceStopped("fillpath", 1, "x", 1)))
    text = m.render().decode()
    assert 'fillpath_reconcile_duration_seconds_count{location="lab1"} 1.0' in text
    assert 'fillpath_journal_appends_total{kind="service.stopped"} 1.0' in text
    assert ServiceMetrics().render() != b""  # a second registry of its own: no duplicate-collector error
