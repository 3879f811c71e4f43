"""Assemble a ``fillpath.snapshot/1`` document from what the collectors read."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from fillpath.chains.readers import ChainRead, ChainSource, read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.collect.aggregators import AggregatorRead, AggregatorSource, read_aggregators
from fillpath.collect.movers import MoverSpec, mover_venues
from fillpath.collect.prices import derive_prices

if TYPE_CHECKING:  # the connectors arrive built (cex/factory.py imports ccxt): a chain-only snapshot loads no ccxt
    from fillpath.cex.connector import CcxtConnector

log = logging.getLogger(__name__)
SNAPSHOT_FORMAT = "fillpath.snapshot/1"
OFF_CHAIN_KINDS = {
    "order_book": "an exchange's REST depth (read_exchange)",
    "aggregator": "an aggregator API's prices at configured sizes (collect/aggregators.py)",
    "bridge": "configured route terms (fees, caps, latency): a bridge quotes what its relayers charge",
    "transfer": "configured deposit and withdrawal terms: an exchange publishes its fees",
}
"""Snapshot venue kinds not read from chain state (``chains/readers.ON_CHAIN_KINDS`` are), and where they come from
(``tests/test_venue_kinds.py`` holds the two lists complete and disjoint)."""
DEFAULT_ANCHORS: Mapping[str, Fraction] = {"USDC": Fraction(1)}


def assemble(
    reads: Sequence[ChainRead], *, taken_at: datetime, anchors: Mapping[str, Fraction] = DEFAULT_ANCHORS
) -> dict[str, Any]:
    reads = _harmonize_exchange_units(reads)
    assets = [a for r in reads for a in r.assets]
    venues = [v for r in reads for v in r.venues]
    decimals = {a["id"]: int(a["decimals"]) for a in assets}
    holdings = {k: v for r in reads for k, v in r.holdings.items() if int(v) > 0}
    return {
        "format": SNAPSHOT_FORMAT,
        "taken_at": taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "assets": assets,
        "locations": [r.location for r in reads],
        "prices": derive_prices(venues, decimals, anchors),
        "holdings": holdings,
        "venues": venues,
    }


async def take_snapshot(
    sources: Sequence[tuple[RpcClient, ChainSource]],
    *,
    exchanges: Sequence[CcxtConnector] = (),
    taken_at: datetime | None = None,
    balances: bool = True,
    movers: Sequence[MoverSpec] = (),
    aggregators: Sequence[AggregatorSource] = (),
) -> dict[str, Any]:
    """Read every chain (each at its own single block) and every exchange concurrently; assemble one snapshot.

    ``balances=False`` reads exchanges' public data only (no credentials needed; no exchange holdings).
    ``movers``: the configured bridges, deposits and withdrawals between them (``collect/movers.py``).
    ``aggregators``: quote APIs sampled at the same time (``collect/aggregators.py``); one that fails is left out."""
    chains = [read_chain(rpc, src) for rpc, src in sources]
    books = [read_exchange(conn, balances=balances) for conn in exchanges]
    sampled = read_aggregators(aggregators)
    *reads, quoted = await asyncio.gather(*chains, *books, sampled)
    assert isinstance(quoted, AggregatorRead)
    snap = assemble([r for r in reads if isinstance(r, ChainRead)], taken_at=taken_at or datetime.now(UTC))
    snap["venues"] += mover_venues(movers, snap["assets"])
    known = {a["id"] for a in snap["assets"]}
    snap["venues"] += [v for v in quoted.venues if v["token_in"] in known and v["token_out"] in known]
    for problem in quoted.problems:
        log.warning("aggregator left out of the snapshot: %s", problem)
    return snap


CEX_DECIMALS = 18
"""An exchange asset is read with 18 decimals, then takes the decimals its symbol has on the snapshot's chains
(USDT 6, WBTC's BTC... only where the symbol matches), so one symbol has one unit everywhere and a bare-symbol
request can span chains and exchanges. Holdings are floored to that unit: they bound what may be sold."""


def _harmonize_exchange_units(reads: Sequence[ChainRead]) -> list[ChainRead]:
    chain_dec = {a["symbol"]: int(a["decimals"]) for r in reads if r.location.get("kind") == "evm" for a in r.assets}
    out = []
    for r in reads:
        if r.location.get("kind") != "cex":
            out.append(r)
            continue
        assets = [{**a, "decimals": chain_dec.get(a["symbol"], CEX_DECIMALS)} for a in r.assets]
        dec = {a["id"]: a["decimals"] for a in assets}
        holdings = {k: str(int(v) // 10 ** (CEX_DECIMALS - dec[k])) for k, v in r.holdings.items()}
        out.append(ChainRead(r.location, assets, r.venues, {k: v for k, v in holdings.items() if int(v) > 0}, r.block))
    return out


async def read_exchange(conn: CcxtConnector, *, depth: int = 100, balances: bool = True) -> ChainRead:
    """One exchange account: its spot books as ``order_book`` venues, its balances as holdings."""
    markets = await conn.ensure_markets()
    books = await asyncio.gather(*(conn.order_book(s, depth) for s in sorted(markets)), return_exceptions=True)
    if failed := [b for b in books if isinstance(b, BaseException)]:  # every book was asked for at once
        raise failed[0]
    venues = [b for b in books if not isinstance(b, BaseException)]
    assets = sorted({a for v in venues for a in (v["base"], v["quote"])})
    holdings: dict[str, str] = {}
    for report in await conn.balances() if balances else []:
        amount = report.amount if isinstance(report.amount, Decimal) else Decimal(report.amount)
        units = amount.scaleb(CEX_DECIMALS)
        if units != units.to_integral_value():
            raise ValueError(f"{report.asset}: {amount} has more than {CEX_DECIMALS} decimals")
        if units > 0:
            holdings[str(report.asset)] = str(int(units))
            if str(report.asset) not in assets:
                assets.append(str(report.asset))
    return ChainRead(
        location={"id": conn.location, "kind": "cex"},
        assets=[{"id": a, "symbol": a.split("@")[0], "decimals": CEX_DECIMALS, "address": None} for a in assets],
        venues=venues,
        holdings=holdings,
        block=0,
    )


def with_ledger_holdings(raw: dict[str, Any], ledger: Any, locations: set[str]) -> dict[str, Any]:
    """``raw`` with the holdings at ``locations`` taken from the ledger (``ledger.balances()``), floored to each
    asset's snapshot unit: a dry run bounds what it may sell by what we believe we hold, without credentials."""
    dec = {a["id"]: int(a["decimals"]) for a in raw["assets"]}
    holdings = {k: v for k, v in raw.get("holdings", {}).items() if k.split("@")[-1] not in locations}
    for asset, amount in ledger.balances().items():
        key = str(asset)
        if asset.location not in locations or key not in dec:
            continue
        units = (
            amount
            if isinstance(amount, int)
            else int(amount.scaleb(dec[key]).to_integral_value(rounding="ROUND_FLOOR"))
        )
        if units > 0:
            holdings[key] = str(units)
    return {**raw, "holdings": holdings}
