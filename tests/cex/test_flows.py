"""An exchange account's deposit and withdrawal history as flow evidence (``cex/flows.py``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from fillpath.cex.flows import ExchangeEvidence
from fillpath.model.assets import AssetId
from fillpath.model.reports import TransferStatus, TransferStatusReport

MS = 1_000_000
MARK_MS = 1_796_667_000_000


class Wallet:
    def __init__(self, withdrawals: list[TransferStatusReport]) -> None:
        self._withdrawals = withdrawals

    async def deposits(self, coin: str, *, tx_id: str | None = None) -> list[TransferStatusReport]:
        return []

    async def withdrawals(self, coin: str, *, client_id: str | None = None) -> list[TransferStatusReport]:
        return [w for w in self._withdrawals if w.asset == coin]


def _withdrawal(ref: str, at_ms: int) -> TransferStatusReport:
    return TransferStatusReport("labex", ref, TransferStatus.CREDITED, "6", "ETH", Decimal(5), venue_ts=at_ms * MS)


def test_withdrawals_in_the_second_before_the_mark_are_found_and_flagged_as_maybe_already_counted() -> None:
    wallet: Any = Wallet([
        _withdrawal("old", MARK_MS - 1_500),  # before the slack: not looked at
        _withdrawal("near", MARK_MS - 400),  # whole seconds: it may be either side of the mark
        _withdrawal("new", MARK_MS + 10),
    ])  # fmt: skip
    evidence = ExchangeEvidence(SimpleNamespace(location="labex"), wallet)  # type: ignore[arg-type]
    found = asyncio.run(evidence.flows(MARK_MS, [AssetId("ETH", "labex")]))
    assert [(f.evidence_id, f.delta, f.near_mark) for f in found] == [
        ("withdrawal:near", -5, True),
        ("withdrawal:new", -5, False),
    ]
