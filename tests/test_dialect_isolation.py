"""Adapter isolation: exchange-specific names live only in their dialect packages (``cex/<ccxt id>/``) and in the
lab. The connector, the order driver, the user stream, the engine, the state and the router speak the neutral
terms of ``cex/dialect.py``; a venue's name, its error codes or its parameter names anywhere else would mean the
core knows a venue."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "fillpath"
DIALECT_HOMES = ("cex/binance", "cex/okx", "lab")
VENUE_WORDS = re.compile(
    r"binance|okx|bybit|kraken|coinbase"  # venue names
    r"|-20(10|11|13|14|15)\b|-10(03|13|21|22)\b"  # Binance's error codes
    r"|\b5(0011|0102|0105|0113|1008|1016|1400|1603)\b"  # OKX's error codes
    r"|newClientOrderId|origClientOrderId|clOrdId|ordId|instId|executionReport|X-MBX|OK-ACCESS",  # their words
    re.IGNORECASE,
)


def _hits(root: Path, skip: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(skip):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if VENUE_WORDS.search(line):
                out.append(f"{rel}:{n}: {line.strip()}")
    return out


def test_no_exchange_names_outside_the_dialect_packages_and_the_lab() -> None:
    assert _hits(SRC, DIALECT_HOMES) == []


def test_the_check_bites() -> None:
    """The same scan over the dialect packages finds their words (so the pattern is not silently blind)."""
    binance = _hits(SRC / "cex" / "binance", ())
    okx = _hits(SRC / "cex" / "okx", ())
    assert any("-2011" in h for h in binance) and any("newClientOrderId" in h for h in binance)
    assert any("51016" in h for h in okx) and any("clOrdId" in h for h in okx)
    every_dialect = {p.parent.name for p in (SRC / "cex").glob("*/dialect.py")}
    assert {f"cex/{d}" for d in every_dialect} <= set(DIALECT_HOMES)  # a new dialect gets a home here
