"""The user's own inputs to the chaos world: a snapshot (``--snapshot``) and a rebalancing policy (``--policy``).

**A snapshot** (the router's JSON, as ``fillpath snapshot take`` writes it) gives the world its exchange: each of its
order books on one exchange location becomes a market of the in-process venue — the mid between its best bid and ask,
its tick and lot, as many levels a side as it has (at most 30), sized from its best and its last level — and the
snapshot's holdings at that location become the account's balances (the world draws them otherwise). The workload
then trades the pairs of those books. The snapshot's chains, bridges and other venues are not part of the world.

**A policy** (TOML, ``fillpath rebalance``'s format: ``rebalance/policy.py``) is checked against the world's
locations (the exchange ``labex``; with ``--chain`` the chain ``lab1``, its WETH and USDC, and the USDC deposit and
withdrawal between them) and run by every scenario after its swaps.

Bad input is an ``InvalidInput`` naming the field (the CLI prints it on one line, exit 2).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from fillpath.config import Config
from fillpath.lab.exchange.config import MarketSpec
from fillpath.model.errors import InvalidInput
from fillpath.rebalance.policy import Policy, parse_policy
from fillpath.router.snapshot import Snapshot, read_snapshot
from fillpath.router.venues.order_book import OrderBook

MAX_LEVELS = 30


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """The exchange a user's snapshot describes: its markets and the account's balances (by symbol)."""

    source: str
    markets: tuple[MarketSpec, ...]
    balances: dict[str, Decimal]

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(p for m in self.markets for p in ((m.base, m.quote), (m.quote, m.base)))


def load_snapshot(path: Path) -> WorldSpec:
    field = f"--snapshot {path}"
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(
            field, f"cannot be read: {exc.strerror or exc}", "give the path of a snapshot file"
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(field, f"is not JSON: {exc.msg} at line {exc.lineno}", "give a snapshot file") from None
    try:
        snap = read_snapshot(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc.field}", exc.problem, exc.fix) from None
    return world_of(snap, field)


def world_of(snap: Snapshot, field: str = "--snapshot") -> WorldSpec:
    """The world's exchange from ``snap``'s order books on its first exchange that has any."""
    books = [v for v in snap.venues if isinstance(v, OrderBook)]
    if not books:
        raise InvalidInput(f"{field}: venues", "has no exchange order book", "take the snapshot with an exchange")
    location = books[0].location
    markets = []
    for b in books:
        if b.location != location:
            continue
        if not b.bids or not b.asks:
            raise InvalidInput(f"{field}: venues[{b.id}]", "has an empty side", "a market needs bids and asks")
        markets.append(_market(b, f"{field}: venues[{b.id}]"))
    balances: dict[str, Decimal] = {}
    for asset, units in (snap.holdings or {}).items():
        if asset.location == location:
            balances[asset.symbol] = Decimal(units).scaleb(-snap.asset(asset).decimals)
    if not any(balances.values()):
        raise InvalidInput(f"{field}: holdings", f"holds nothing on {location}", "the account needs something to sell")
    return WorldSpec(field, tuple(markets), balances)


def _market(b: OrderBook, field: str) -> MarketSpec:
    best_bid, best_ask = b.bids[0][0], b.asks[0][0]
    if best_bid >= best_ask:
        raise InvalidInput(field, f"is crossed (bid {best_bid} ≥ ask {best_ask})", "take the snapshot again")
    tick = b.tick if b.tick > 0 else Decimal("1e-8")
    lot = b.lot if b.lot > 0 else Decimal("1e-8")
    levels = min(MAX_LEVELS, len(b.bids), len(b.asks))
    spread = max(1, int(((best_ask - best_bid) / tick).to_integral_value(rounding=ROUND_DOWN)))
    mid = ((best_bid + best_ask) / 2 / tick).to_integral_value(rounding=ROUND_DOWN) * tick
    depth = [q for _, q in (*b.bids[:levels], *b.asks[:levels])]
    gap = (b.bids[0][0] - b.bids[levels - 1][0]) / max(1, levels - 1) / tick if levels > 1 else Decimal(1)
    first, last = max(lot, min(depth)), max(lot, max(depth))
    return MarketSpec(b.base.symbol, b.quote_asset.symbol, mid, tick, lot, lot, Decimal(10**12), b.min_notional,
                      tick, mid * 1000, spread_ticks=spread, levels=levels,
                      spacing_ticks=max(1, int(gap)), first_qty=first, last_qty=last)  # fmt: skip


def load_policy(path: Path, *, chain: bool) -> Policy:
    """``path`` checked against the world's locations (``chain``: with the chain and the transfers)."""
    field = f"--policy {path}"
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(field, f"cannot be read: {exc.strerror or exc}", "give the path of a policy file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(field, f"is not valid TOML: {exc}", "fix the syntax at that line") from None
    try:
        return parse_policy(data, world_config(chain=chain), source=str(path), name=path.stem)
    except InvalidInput as exc:
        problems = getattr(exc, "problems", (exc,))
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidInput(f"{field}: {first.field}", f"{first.problem}{more}", first.fix) from None


def world_config(*, chain: bool) -> Config:
    """The world's places as a configuration (what a policy is checked against): ``labex``; with the chain,
    ``lab1`` with its WETH and USDC and the USDC deposit and withdrawal."""
    from fillpath.lab.chaos.chain import CHAIN

    raw: dict[str, object] = {"exchanges": {"labex": {"ccxt_id": "binance"}}}
    if chain:
        raw["locations"] = {CHAIN: {"chain_id": 31337, "rpc": ["http://chaos.invalid"]}}
        raw["tokens"] = [{"location": CHAIN, "symbol": "WETH", "address": "0x" + "11" * 20, "decimals": 18},
                         {"location": CHAIN, "symbol": "USDC", "address": "0x" + "22" * 20, "decimals": 6}]  # fmt: skip
        raw["transfers"] = [
            {"exchange": "labex", "chain": CHAIN, "coin": "USDC", "network": "LAB1", "direction": d}
            for d in ("deposit", "withdraw")
        ]
    return Config.model_validate(raw)
