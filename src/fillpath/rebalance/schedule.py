"""Time slots of a policy's schedule: every N seconds (aligned on the epoch, so every process computes the same
slots) or a cron expression in UTC (croniter). A run's id is its policy and its slot, so the id alone says whether a
slot has run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from fillpath.rebalance.policy import Schedule

NS = 1_000_000_000


def _cron(expr: str, ns: int) -> tuple[int, int]:
    """The cron slots at or before ``ns`` and strictly after it."""
    from croniter import croniter

    at = datetime.fromtimestamp(ns / NS, UTC)
    it = croniter(expr, at)
    after = int(it.get_next(float) * NS)
    before = croniter(expr, datetime.fromtimestamp(ns / NS + 1e-6, UTC)).get_prev(float)
    return int(before * NS), after


def slot_at_or_before(s: Schedule, ns: int) -> int:
    if s.every_s is not None:
        step = s.every_s * NS
        return ns - ns % step
    assert s.cron is not None
    return _cron(s.cron, ns)[0]


def slot_after(s: Schedule, ns: int) -> int:
    """The first slot strictly after ``ns``."""
    if s.every_s is not None:
        return slot_at_or_before(s, ns) + s.every_s * NS
    assert s.cron is not None
    return _cron(s.cron, ns)[1]


def slots_between(s: Schedule, after_ns: int, upto_ns: int, *, limit: int = 10_000) -> Iterator[int]:
    """Slots in ``(after_ns, upto_ns]``, oldest first, at most ``limit``."""
    slot, n = slot_after(s, after_ns), 0
    while slot <= upto_ns and n < limit:
        yield slot
        slot, n = slot_after(s, slot), n + 1


def slot_text(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_id(policy: str, slot_ns: int) -> str:
    """``spread@2026-12-07T14:50:10Z``: the same in every process for the same policy and slot."""
    return f"{policy}@{slot_text(slot_ns)}"


def describe(s: Schedule) -> str:
    return f"every {s.every_s} s" if s.every_s is not None else f"cron {s.cron} (UTC)"
