"""Two channels of one venue disagreeing about a balance (REST snapshot vs user stream) is drift.

Neither channel is our ledger, so this does not adjust anything: it records what each said, for the
reconciler and for a human. The stream reports only the assets that changed; assets it did not mention
are not compared.
"""

from __future__ import annotations

from collections.abc import Sequence

from fillpath.model.events import DriftDetected
from fillpath.model.reports import BalanceReport


def disagreements(
    rest: Sequence[BalanceReport], stream: Sequence[BalanceReport], *, source: str
) -> list[DriftDetected]:
    by_asset = {r.asset: r for r in rest}
    out: list[DriftDetected] = []
    for s in stream:
        r = by_asset.get(s.asset)
        if r is not None and r.amount != s.amount:
            out.append(DriftDetected(s.venue, s.asset, r.amount, s.amount, source))
    return out
