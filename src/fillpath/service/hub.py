"""The live event feed: every journal entry the service sees, fanned out to the dashboard's event streams (SSE),
with the most recent ones kept for a page that has just opened."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from fillpath.model.events import Recorded, event_to_payload

RECENT = 1000
QUEUE = 10_000


def event_json(rec: Recorded) -> dict[str, Any]:
    """A journal entry as the API shows it: the envelope, the kind, and the event's lossless payload (strings)."""
    return {
        "seq": rec.seq,
        "recv_ns": str(rec.recv_ns),
        "venue_ts": None if rec.venue_ts is None else str(rec.venue_ts),
        "kind": rec.event.kind,
        "venue": rec.event.venue,
        "payload": event_to_payload(rec.event),
    }


class EventHub:
    def __init__(self, recent: int = RECENT) -> None:
        self.recent: deque[dict[str, Any]] = deque(maxlen=recent)
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self.closed = False

    def publish(self, rec: Recorded) -> None:
        item = event_json(rec)
        self.recent.append(item)
        for q in list(self._subscribers):
            if q.qsize() >= QUEUE - 1:  # a reader that stopped reading is dropped (told so), not waited for
                self._subscribers.discard(q)
                q.put_nowait(None)
                continue
            q.put_nowait(item)

    def since(self, after_seq: int) -> list[dict[str, Any]]:
        return [e for e in self.recent if e["seq"] > after_seq]

    def subscribe(self, after_seq: int | None) -> Subscription:
        """What the feed holds after ``after_seq`` (if given), then every new entry until the hub closes."""
        q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE)
        for item in self.since(after_seq) if after_seq is not None else ():
            q.put_nowait(item)
        if self.closed:
            q.put_nowait(None)
        else:
            self._subscribers.add(q)
        return Subscription(self, q)

    def _leave(self, q: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._subscribers.discard(q)

    def close(self) -> None:
        """End every subscription (shutdown: the dashboards' streams end, so the server stops at once)."""
        self.closed = True
        for q in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)
        self._subscribers.clear()


class Subscription:
    """One reader of the feed (a dashboard's event stream)."""

    def __init__(self, hub: EventHub, q: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._hub, self._q = hub, q

    async def next(self, timeout_s: float) -> dict[str, Any] | None:
        """The next entry; None when the feed has closed; ``TimeoutError`` after ``timeout_s`` of silence."""
        return await asyncio.wait_for(self._q.get(), timeout=timeout_s)

    def close(self) -> None:
        self._hub._leave(self._q)
