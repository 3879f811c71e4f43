"""The small interfaces adapters write to. ``state.Store`` implements them; tests may use any object that does."""

from __future__ import annotations

from typing import Protocol

from fillpath.model.events import Event


class Journal(Protocol):
    """Where adapters record what happened: one durable, locally sequenced append per event."""

    def append(self, event: Event, *, recv_ns: int | None = None, venue_ts: int | None = None) -> int: ...


class NonceBook(Journal, Protocol):
    """The journal plus the nonce projection it keeps (the next nonce per chain and address)."""

    def next_nonce(self, venue: str, address: str) -> int | None: ...
