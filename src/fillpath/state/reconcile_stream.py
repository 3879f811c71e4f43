"""An exchange's two channels about one balance: the user stream against a REST read, per asset.

Neither channel is our ledger. The REST figure, read at a quiet moment, is the one the balance pass books
from; the stream is fast but can miss or garble an update. So a disagreement between them is recorded
(``DriftDetected``, source ``"<venue> stream vs rest"``, expected = REST, observed = stream) and never booked.

A stream figure is comparable only if we heard it before the REST request left and heard nothing newer for
that asset by the time we compare (the reconciler lets the stream settle first): otherwise a change that
reached the REST read but whose push was still on the wire would look like a disagreement. The stream
pushes only the assets that changed, so an asset it never mentioned is not compared.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.events import DriftDetected
from fillpath.model.reports import BalanceReport


@dataclass(frozen=True, slots=True)
class Heard:
    """The stream's latest word on one asset and when we received it (local ns)."""

    report: BalanceReport
    recv_ns: int


class StreamBalances:
    """What one venue's user stream said last, per asset. ``on_balances`` is ``UserStream``'s callback."""

    def __init__(self, location: str, *, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.location = location
        self._clock_ns = clock_ns
        self._latest: dict[AssetId, Heard] = {}
        self.updates = 0

    async def on_balances(self, reports: list[BalanceReport]) -> None:
        now = self._clock_ns()
        self.updates += 1
        for r in reports:
            if r.venue == self.location:
                self._latest[r.asset] = Heard(r, now)

    def latest(self) -> Mapping[AssetId, Heard]:
        return MappingProxyType(self._latest)


class StreamAction(StrEnum):
    OK = "ok"
    WAIT = "wait"  # heard while the REST read was under way or since: not comparable in this pass
    DRIFT = "drift"


@dataclass(frozen=True, slots=True)
class StreamFinding:
    venue: str
    asset: AssetId
    rest: Amount
    stream: Amount
    action: StreamAction


def stream_source(venue: str) -> str:
    return f"{venue} stream vs rest"


def compare_stream(
    rest: Sequence[BalanceReport], heard: Mapping[AssetId, Heard], *, rest_sent_ns: int
) -> list[StreamFinding]:
    """Pure: one finding per asset the stream has spoken of. An asset the REST read does not list holds 0."""
    by_asset = {r.asset: r.amount for r in rest}
    out = []
    for asset, h in sorted(heard.items(), key=lambda kv: str(kv[0])):
        zero: Amount = Decimal(0) if isinstance(h.report.amount, Decimal) else 0
        held = by_asset.get(asset, zero)
        if h.recv_ns >= rest_sent_ns:
            action = StreamAction.WAIT
        elif held == h.report.amount:
            action = StreamAction.OK
        else:
            action = StreamAction.DRIFT
        out.append(StreamFinding(h.report.venue, asset, held, h.report.amount, action))
    return out


def stream_events(
    findings: Sequence[StreamFinding], recorded: Mapping[AssetId, tuple[Amount, Amount]]
) -> list[DriftDetected]:
    """Drift for each disagreement not already recorded with the same figures (``recorded``: this source's)."""
    return [
        DriftDetected(f.venue, f.asset, f.rest, f.stream, stream_source(f.venue))
        for f in findings
        if f.action is StreamAction.DRIFT and recorded.get(f.asset) != (f.rest, f.stream)
    ]
