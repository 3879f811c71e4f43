"""After a restart: every transaction the journal holds as unfinished is adopted by the tracker again.

Transactions are journaled (``TxBroadcast``) *before* their bytes leave the process, so a crash at any point
leaves a hash and a nonce to resolve: the tracker finds the transaction by hash (mempool, receipt) or learns
from the nonce that another transaction used it. Nothing is sent twice, nothing is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable

from fillpath.chains.tracker import Tracked, TxTracker
from fillpath.state.records import TxRecord, TxStatus

UNFINISHED = frozenset({TxStatus.BROADCAST, TxStatus.MINED, TxStatus.REORGED})


def adopt_unfinished(tracker: TxTracker, records: Iterable[TxRecord]) -> list[Tracked]:
    adopted = []
    for rec in records:
        if rec.venue != tracker.location or rec.status not in UNFINISHED:
            continue
        if rec.sender is None or rec.nonce is None:
            continue
        adopted.append(tracker.adopt(rec.tx_hash, rec.sender, rec.nonce))
    return adopted
