"""Unified balances: read every venue (or the last reading, cached in the data directory) beside the ledger."""

from __future__ import annotations

import json
import time
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any

from fillpath.app import balance_sources, chain_sources, close_all, exchange_connectors, open_store
from fillpath.client.values import Balances
from fillpath.collect.snapshot import take_snapshot
from fillpath.config import Config
from fillpath.model.assets import AssetId
from fillpath.model.errors import DamagedState, InvalidInput
from fillpath.model.validate import parse_json
from fillpath.paths import ensure_private_dir, read_input_text, write_private_file
from fillpath.service.views import balance_rows, in_flight, symbol_totals, transfers_in_flight

WIDE_DIGITS = 200
"""Decimal digits for balance arithmetic: a uint256 has 78, a price a few dozen (the default context has 28)."""


def cache_path(data_dir: Path) -> Path:
    return data_dir / "venue-balances.json"


async def refresh(cfg: Config) -> dict[str, Any]:
    """Read every venue now and cache the reading (0600) for the next ``balances`` without ``refresh``."""
    sources = balance_sources(cfg)
    snaps = chain_sources(cfg)
    exchanges = exchange_connectors(cfg)
    try:
        reports = [r for s in sources for r in await s.balances()]
        snap = await take_snapshot(snaps, exchanges=exchanges)
    finally:
        await close_all(sources)
        await close_all(rpc for rpc, _ in snaps)
        await close_all(exchanges)
    data = {
        "read_at_ns": time.time_ns(),
        # chain balances are int base units, exchange balances human Decimals: the cache says which is which
        "reports": {
            str(r.asset): {"amount": str(r.amount), "unit": "human" if isinstance(r.amount, Decimal) else "base"}
            for r in reports
        },
        "decimals": {a["id"]: a["decimals"] for a in snap["assets"]},
        "prices": snap["prices"],
    }
    ensure_private_dir(cfg.data_dir)
    write_private_file(cache_path(cfg.data_dir), json.dumps(data, indent=2), "venue balances")
    return data


def read_cache(path: Path) -> dict[str, Any]:
    """The last reading, checked: a damaged cache is named with its fix, never a traceback mid-table."""
    fix = "read every venue again with `fillpath balances --refresh`"
    data = parse_json(read_input_text(path, str(path), fix=fix), str(path), fix=fix)
    try:
        int(data["read_at_ns"])
        for aid, rep in data["reports"].items():
            AssetId.parse(aid)
            amount = Decimal(rep["amount"])
            if rep["unit"] not in ("human", "base") or not amount.is_finite():
                raise ValueError(aid)
        for aid, dec in data["decimals"].items():
            AssetId.parse(aid)
            if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 77:
                raise ValueError(aid)
        for aid, price in data["prices"].items():
            if not Decimal(price).is_finite():
                raise ValueError(aid)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, InvalidInput):
        raise DamagedState(str(path), "the cached venue balances are damaged", fix) from None
    return dict(data)


async def unified_balances(cfg: Config, *, fresh: bool) -> Balances:
    cache = cache_path(cfg.data_dir)
    data = await refresh(cfg) if fresh or not cache.exists() else read_cache(cache)
    store = open_store(cfg)
    try:
        ledger = dict(store.balances())
        flying = in_flight(store)
        moving = transfers_in_flight(store, data["decimals"])
    finally:
        store.close()
    with localcontext(Context(prec=WIDE_DIGITS)):  # uint256 amounts times prices: never rounded, never refused
        rows = balance_rows(ledger, data["reports"], flying, data["decimals"], data["prices"])
        totals = symbol_totals(rows)
    age_s = (time.time_ns() - int(data["read_at_ns"])) / 1e9
    return Balances.from_json({"venues_read_s_ago": age_s, "assets": rows, "symbols": totals, "in_flight": moving})
