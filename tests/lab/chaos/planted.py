"""Planted bugs: the engine broken on purpose, through the chaos world's test-only ``tamper`` hook (never a switch
in production code). Each is a mistake real execution engines make; the simulator must catch every one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from fillpath.cex.order_driver import OrderDriver
from fillpath.cex.orders import TrackedOrder
from fillpath.lab.chaos.world import LOCATION, Parts, Tamper

__all__ = [
    "Tamper",
    "intent_after_send",
    "reconcile_ignores_in_flight",
    "reconcile_ignores_stream",
    "retry_without_client_id",
]
from fillpath.model.events import Event, IntentCreated
from fillpath.model.orders import OrderState


class _RetryWithNewId(OrderDriver):
    """On an unknown outcome, "retries" the order under a fresh client order id instead of asking the venue."""

    async def _send(self, cid: str) -> TrackedOrder:
        tracked = await super()._send(cid)
        if tracked.state is OrderState.UNKNOWN and not cid.endswith("r"):
            retry = dataclasses.replace(self.orders[cid].cmd, client_order_id=cid + "r")
            await self.submit(retry)
        return tracked


def retry_without_client_id(parts: Parts) -> None:
    bad = _RetryWithNewId(parts.connector, parts.store, clock_ns=parts.driver._clock_ns)
    parts.driver = bad
    parts.wiring.drivers = {LOCATION: bad}


def intent_after_send(parts: Parts) -> None:
    """Commits an order's intent (and submission) only after its request came back from the venue."""
    store, conn = parts.store, parts.connector
    held: list[tuple[list[Event], dict[str, Any]]] = []
    append_many = store.append_many
    submit = conn.submit

    def deferred(events: Iterable[Event], **kw: Any) -> list[int]:
        batch = list(events)
        if any(isinstance(e, IntentCreated) and e.action == "cex.order" for e in batch):
            held.append((batch, kw))
            return []
        return append_many(batch, **kw)

    def commit() -> None:
        while held:
            batch, kw = held.pop(0)
            append_many(batch, **kw)

    async def send_then_commit(cmd: Any) -> Any:
        try:
            reply = await submit(cmd)
        except Exception:  # a venue error; a crash (BaseException) ends the process: nothing after it runs
            commit()
            raise
        commit()
        return reply

    store.append_many = deferred  # type: ignore[method-assign]
    conn.submit = send_then_commit  # type: ignore[method-assign]


def reconcile_ignores_in_flight(parts: Parts) -> None:
    """Reconciliation that counts nothing as in flight: an order's funds mid-fill look like drift."""
    parts.reconciler._busy = lambda venue: (False, set())  # type: ignore[method-assign]


def reconcile_ignores_stream(parts: Parts) -> None:
    """Reconciliation that never compares the user stream with REST: a stream that lies goes unnoticed."""
    parts.reconciler.exchanges = {
        venue: dataclasses.replace(checks, stream=None) for venue, checks in parts.reconciler.exchanges.items()
    }
