"""Slots: every N seconds aligned on the epoch, or cron in UTC; the run id names the policy and the slot."""

from __future__ import annotations

from datetime import UTC, datetime

from fillpath.rebalance.policy import Schedule
from fillpath.rebalance.schedule import NS, run_id, slot_after, slot_at_or_before, slots_between


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * NS


def test_interval_slots_are_aligned_on_the_epoch() -> None:
    s = Schedule(every_s=10)
    now = at("2026-12-07T14:55:13") + 250_000_000
    assert slot_at_or_before(s, now) == at("2026-12-07T14:55:10")
    assert slot_after(s, now) == at("2026-12-07T14:55:20")
    assert slot_after(s, at("2026-12-07T14:55:20")) == at("2026-12-07T14:55:30")  # strictly after
    assert slot_at_or_before(s, at("2026-12-07T14:55:20")) == at("2026-12-07T14:55:20")
    got = list(slots_between(s, at("2026-12-07T14:55:10"), at("2026-12-07T14:55:40")))
    assert got == [at("2026-12-07T14:55:20"), at("2026-12-07T14:55:30"), at("2026-12-07T14:55:40")]
    assert run_id("spread", got[0]) == "spread@2026-12-07T14:55:20Z"


def test_cron_slots_are_utc() -> None:
    s = Schedule(cron="*/15 * * * *")
    now = at("2026-12-07T14:55:13")
    assert slot_at_or_before(s, now) == at("2026-12-07T14:45:00")
    assert slot_after(s, now) == at("2026-12-07T15:00:00")
    assert slot_at_or_before(s, at("2026-12-07T15:00:00")) == at("2026-12-07T15:00:00")
    assert slot_after(s, at("2026-12-07T15:00:00")) == at("2026-12-07T15:15:00")
    hourly = list(slots_between(Schedule(cron="0 * * * *"), at("2026-12-07T22:30:00"), at("2026-12-08T01:00:00")))
    assert hourly == [at("2026-12-07T23:00:00"), at("2026-12-08T00:00:00"), at("2026-12-08T01:00:00")]
    assert len(list(slots_between(Schedule(every_s=1), 0, 10**6 * NS, limit=50))) == 50
