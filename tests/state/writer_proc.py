"""A separate OS process that appends to a store and reports each commit on stdout, one JSON line each.

Used by the concurrency test (two of these at once) and the crash test (kill -9 at a random moment).
``python -m tests.state.writer_proc URL TAG COUNT [GO_FILE]`` (COUNT 0: until killed; GO_FILE: wait after
opening until that file exists, so that two writers start together).
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from fillpath.model.assets import AssetId
from fillpath.model.events import (
    BalanceAdjusted,
    Event,
    IntentCreated,
    IntentOutcome,
    IntentResolved,
    NonceAllocated,
    OrderFilled,
    OrderSubmitted,
    TxBroadcast,
)
from fillpath.model.sides import Side
from fillpath.state.store import Store, make_engine

USDT = AssetId("USDT", "binance")
WETH = AssetId("WETH", "lab1")


def ident(event: Event) -> str:
    """What the parent compares: the kind and the id the writer gave the event."""
    for name in ("intent_id", "trade_id", "client_order_id", "tx_hash", "address"):
        value = getattr(event, name, None)
        if value is not None:
            return f"{event.kind}:{value}"
    return f"{event.kind}:{getattr(event, 'asset', '')}"


def batch(tag: str, i: int) -> list[Event]:
    shape = i % 3
    if shape == 0:
        return [IntentCreated("binance", f"{tag}-{i}", "submit_order", ref=f"{tag}-{i}", min_out=Decimal("1.5"))]
    if shape == 1:
        return [
            OrderSubmitted("binance", f"{tag}-{i}", "ETH/USDT", Side.SELL, Decimal("1.5"), intent_id=f"{tag}-{i - 1}"),
            OrderFilled("binance", f"{tag}-{i}", f"{tag}-{i}", Decimal("1.5"), Decimal("2000.01")),
            BalanceAdjusted("binance", USDT, Decimal("3000.015"), "fill"),
            NonceAllocated("lab1", tag, i),
        ]
    return [
        TxBroadcast("lab1", f"0x{tag}{i}", tag, i, f"{tag}-{i - 2}"),
        BalanceAdjusted("lab1", WETH, 10**20 + i, "deposit"),
        IntentResolved("binance", f"{tag}-{i - 2}", IntentOutcome.GOOD),
    ]


def main(url: str, tag: str, count: int, go_file: str | None) -> None:
    store = Store(make_engine(url))  # the parent migrated the schema; skipping alembic starts us faster
    print(json.dumps({"ready": True}), flush=True)
    while go_file is not None and not Path(go_file).exists():
        time.sleep(0.001)
    i = 0
    while count == 0 or i < count:
        events = batch(tag, i)
        seqs = [store.append(events[0])] if len(events) == 1 else store.append_many(events)
        print(json.dumps({"i": i, "seqs": seqs, "ids": [ident(e) for e in events]}), flush=True)
        i += 1
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
