"""What reconciliation needs from the journal beyond the projections, folded from the journal's tail.

- the drifts already recorded, per (source, asset), with their last figures: a drift is not recorded twice;
- the order disputes already recorded (``OrderDriftDetected``, by key);
- each venue's identity and epoch, its last mark of agreement, and the evidence of every external flow booked;
- each recent order's history, for the order driver to replay (it rebuilds an order from its events), and
  when we first and last heard of it.

The first :meth:`follow` reads the whole journal once; later ones read only what was appended since, by any
process. Histories of finished orders older than the window the caller keeps are dropped (:meth:`forget`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.events import (
    DriftDetected,
    ExternalFlow,
    OrderDriftDetected,
    Recorded,
    VenueChecked,
    VenueIdentified,
)
from fillpath.state.reconcile import IN_FLIGHT_NOTE
from fillpath.state.reconcile_orders import OrderDriftKey, drift_key


class JournalReader(Protocol):
    @property
    def last_seq(self) -> int: ...

    def events(self, after_seq: int = 0, *, limit: int | None = None) -> Iterator[Recorded]: ...


class ReconcileMemory:
    def __init__(self) -> None:
        self.seen = 0
        self._drifts: dict[str, dict[AssetId, tuple[Amount, Amount]]] = {}
        self.order_drifts: set[OrderDriftKey] = set()
        self._orders: dict[tuple[str, str], list[Recorded]] = {}
        self.identities: dict[str, VenueIdentified] = {}
        """Per venue, the identity (and epoch) the ledger follows."""
        self.marks: dict[str, tuple[int, int]] = {}
        """Per venue, (mark, seq) of the last ``VenueChecked`` in the current identity."""
        self.flow_ids: set[str] = set()
        """Evidence ids of every external flow booked."""

    def follow(self, journal: JournalReader) -> None:
        """Fold in what was appended since the last call (``last_seq`` as of the journal's last refresh)."""
        if journal.last_seq != self.seen:
            self.add(journal.events(after_seq=self.seen))

    def add(self, records: Iterable[Recorded]) -> None:
        for rec in records:
            if rec.seq <= self.seen:
                continue
            self.seen = rec.seq
            e = rec.event
            if isinstance(e, DriftDetected):
                self._drifts.setdefault(e.source.removesuffix(IN_FLIGHT_NOTE), {})[e.asset] = (e.expected, e.observed)
            elif isinstance(e, OrderDriftDetected):
                self.order_drifts.add(drift_key(e))
            elif isinstance(e, VenueIdentified):
                self.identities[e.venue] = e
                self.marks.pop(e.venue, None)  # a mark of another identity says nothing about this one
            elif isinstance(e, VenueChecked):
                self.marks[e.venue] = (e.mark, rec.seq)
            elif isinstance(e, ExternalFlow):
                self.flow_ids.add(e.evidence_id)
            else:
                cid = getattr(e, "client_order_id", None)
                if isinstance(cid, str):
                    self._orders.setdefault((e.venue, cid), []).append(rec)

    def drifts(self, source: str) -> dict[AssetId, tuple[Amount, Amount]]:
        """The last recorded (expected, observed) per asset from ``source``: a live view, kept by :meth:`add`."""
        return self._drifts.setdefault(source, {})

    def history(self, venue: str, client_order_id: str) -> list[Recorded]:
        return list(self._orders.get((venue, client_order_id), ()))

    def first_ns(self, venue: str, client_order_id: str) -> int | None:
        h = self._orders.get((venue, client_order_id))
        return h[0].recv_ns if h else None

    def last_ns(self, venue: str, client_order_id: str) -> int | None:
        h = self._orders.get((venue, client_order_id))
        return h[-1].recv_ns if h else None

    def heard_since(self, venue: str, since_ns: int) -> list[str]:
        """Client ids at ``venue`` with an event received at or after ``since_ns``."""
        return [cid for (v, cid), h in self._orders.items() if v == venue and h[-1].recv_ns >= since_ns]

    def forget(self, venue: str, client_order_ids: Iterable[str]) -> None:
        for cid in client_order_ids:
            self._orders.pop((venue, cid), None)

    def known(self, venue: str) -> list[str]:
        return [cid for (v, cid) in self._orders if v == venue]
