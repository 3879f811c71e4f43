"""Venues that move an asset between locations — bridges, exchange deposits and withdrawals — as snapshot venues.

Their terms (fees, caps, expected latency) are configuration, not a chain read: a bridge quotes what its relayers
charge, an exchange publishes its withdrawal fees. The collector turns each configured route into a ``bridge`` or
``transfer`` venue (``docs/SNAPSHOT.md``) in the snapshot's base units, and leaves out a route whose assets the
snapshot does not have (an exchange that did not answer, a token not configured on a chain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from fillpath.model.amounts import to_base_units


@dataclass(frozen=True, slots=True)
class MoverSpec:
    """One configured direction: ``source`` → ``target`` (``SYMBOL@LOCATION``). Amounts in human units of
    ``source``; ``gas`` is paid on the source chain (0 when the source is an exchange)."""

    kind: Literal["bridge", "transfer"]
    id: str
    source: str
    target: str
    fee_ppm: int
    fee_fixed: Decimal
    latency_s: int
    max_amount: Decimal
    gas: int


def mover_venues(specs: Sequence[MoverSpec], assets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The snapshot venues of ``specs`` whose two assets are among ``assets`` (the snapshot's asset list)."""
    decimals = {str(a["id"]): int(a["decimals"]) for a in assets}
    out = []
    for s in specs:
        if s.source not in decimals or s.target not in decimals:
            continue
        dec = decimals[s.source]
        out.append({
            "kind": s.kind, "id": s.id, "from": s.source, "to": s.target,
            "fee_fixed": str(to_base_units(s.fee_fixed, dec, field=f"{s.id}.fee_fixed")), "fee_ppm": s.fee_ppm,
            "latency_s": s.latency_s, "max_amount": str(to_base_units(s.max_amount, dec, field=f"{s.id}.max_amount")),
            "gas": str(s.gas),
        })  # fmt: skip
    return out
