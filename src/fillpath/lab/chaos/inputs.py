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
from typing import Any

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


def _read_file(path: Path, field: str, kind: str, *, toml: bool = False) -> Any:
    """``path`` parsed (JSON, or TOML for a policy); a file that cannot be read or parsed is ``InvalidInput`` naming
    ``field`` (the option and the path) and the fix."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInput(field, f"cannot be read: {exc.strerror or exc}", f"give the path of a {kind} file") from None
    except UnicodeDecodeError:
        raise InvalidInput(field, "is not UTF-8 text", f"give a {kind} file") from None
    if toml:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(field, f"is not valid TOML: {exc}", "fix the syntax at that line") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(field, f"is not JSON: {exc.msg} at line {exc.lineno}", f"give a {kind} file") from None


def load_snapshot(path: Path) -> WorldSpec:
    field = f"--snapshot {path}"
    data = _read_file(path, field, "snapshot")
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
    data = _read_file(path, field, "policy", toml=True)
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


CHAIN_VENUE_KINDS = frozenset({"uniswap_v2", "uniswap_v3", "stableswap", "aggregator", "wrap"})
"""Venue kinds whose id is ``LOCATION:KIND:...`` on an EVM chain (``docs/SNAPSHOT.md``); an order book's id is
``LOCATION:BASE/QUOTE``."""
WORLD_FUNDS = {"WETH": 300 * 10**18, "USDC": 600_000 * 10**6, "ETH": 50 * 10**18}
"""What the world's trader holds on a chain (``chain.FUNDING``): a plan selling more there is refused up front."""


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A user's plan as the world's workload: its request (what it sells, how much, for what) at the world's places.
    Every scenario executes it through the engine first (routed afresh on the world's venues, within the plan's
    hop count), then goes on with its drawn workload."""

    source: str
    sell: str
    buy: str
    amount: int
    """Base units of the sell asset (the world's units for it: 18, USDC 6, as the snapshot collector's)."""
    max_hops: int
    mapping: tuple[tuple[str, str], ...]
    """The plan's locations → the world's."""

    chain: bool = False
    """The world has a chain (its USDC is then 6 decimals on the exchange too, as the collector harmonizes it)."""

    def decimals(self) -> int:
        symbol, _, where = self.sell.partition("@")
        return 6 if symbol == "USDC" and (self.chain or where != "labex") else 18


def load_plan(path: Path, *, chain: bool, bridge: bool = False, spec: WorldSpec | None = None) -> PlanSpec:
    """``path`` (``fillpath.plan/1``, as ``fillpath route --json`` writes it) checked and mapped onto the world: a
    location where the plan trades on an order book is the world's exchange (``labex``); one where it trades on
    chain venues is ``lab1`` (a second one ``lab2``, with ``--bridge``). Bad input names the field."""
    from fillpath.lab.chaos.chain import CHAIN, CHAIN2
    from fillpath.router.plan import read_plan

    field = f"--plan {path}"
    data = _read_file(path, field, "plan")
    try:
        plan = read_plan(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc.field}", exc.problem, exc.fix) from None
    if not plan.legs:
        raise InvalidInput(f"{field}: legs", "is empty", "route a request the plan can execute")
    if plan.amount_in <= 0:
        raise InvalidInput(f"{field}: amount_in", "must be positive", "route a positive amount")
    kinds: dict[str, str] = {}  # plan location → "chain" / "exchange", in the order the legs name them
    for leg in plan.legs:  # a mover (bridge, deposit) is placed by the legs beside it
        head, _, rest = leg.venue.partition(":")
        where = "chain" if rest.partition(":")[0] in CHAIN_VENUE_KINDS else "exchange" if "/" in rest else None
        if where is not None and leg.asset_in.location == head:
            kinds.setdefault(head, where)
    if not kinds:
        raise InvalidInput(f"{field}: legs", "trade on no order book and no chain pool",
                           "the world has an exchange's order books and chain pools")  # fmt: skip
    chains = [loc for loc, w in kinds.items() if w == "chain"]
    exchanges = [loc for loc, w in kinds.items() if w == "exchange"]
    places = [CHAIN, CHAIN2] if bridge else [CHAIN] if chain else []
    if chains and not places:
        raise InvalidInput(f"{field}: legs", f"trade on chain {chains[0]}", "add --chain (or --bridge)")
    if len(chains) > len(places):
        fix = "add --bridge (two chains)" if len(chains) == 2 else "route on fewer chains"
        raise InvalidInput(f"{field}: legs", f"trade on {len(chains)} chains ({', '.join(chains)}); the world has "
                           f"{len(places)}", fix)  # fmt: skip
    if len(exchanges) > 1:
        raise InvalidInput(f"{field}: legs", f"trade on {len(exchanges)} exchanges; the world has one", "route on one")
    mapping = {**dict(zip(chains, places, strict=False)), **dict.fromkeys(exchanges, "labex")}
    on_exchange = set(spec.balances) | {m.base for m in spec.markets} | {m.quote for m in spec.markets} if spec else {
        "ETH", "BTC", "USDT", "USDC"}  # fmt: skip
    on_chain = {"WETH", "USDC", "ETH"}

    def place(name: str, what: str) -> str:
        symbol, _, loc = name.partition("@")
        if not loc:  # a bare symbol: where the plan's legs take it from (sell) or bring it to (buy)
            legs = [leg.asset_in if what == "sell" else leg.asset_out for leg in plan.legs]
            loc = next((a.location for a in legs if a.symbol == symbol and a.location in mapping), "")
        if loc not in mapping:
            raise InvalidInput(f"{field}: {what}", f"{name}: no leg trades at {loc or 'its location'}",
                               "route a plan whose legs start and end where it sells and buys")  # fmt: skip
        world = mapping[loc]
        have = on_exchange if world == "labex" else on_chain
        if symbol not in have:
            raise InvalidInput(f"{field}: {what}", f"{name}: the world's {world} has no {symbol}",
                               f"one of {', '.join(sorted(have))}")  # fmt: skip
        return f"{symbol}@{world}"

    sell, buy = place(plan.sell, "sell"), place(plan.buy, "buy")
    symbol, _, world = sell.partition("@")
    if world != "labex" and plan.amount_in > WORLD_FUNDS.get(symbol, 0):
        raise InvalidInput(f"{field}: amount_in", f"{plan.amount_in} {sell} is more than the world's trader holds "
                           f"there ({WORLD_FUNDS.get(symbol, 0)})", "route a smaller amount")  # fmt: skip
    hops = max((len(p.venues) for p in plan.paths), default=len(plan.legs))
    return PlanSpec(field, sell, buy, plan.amount_in, max(2, hops), tuple(sorted(mapping.items())), chain or bridge)
