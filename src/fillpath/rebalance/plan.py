"""Drift → moves, purely: a policy, a snapshot (market + holdings) and what is in flight give the positions against
their bands and the cheapest moves that bring them back, each routed over the whole graph (swaps, bridges, exchange
deposits and withdrawals). No I/O: the same inputs give the same plan.

- A target is an amount or a share of its symbol's total over every location (in flight included, so a transfer
  on its way is not sent twice). A position outside its band is brought back to the target itself.
- Sources are the same symbol elsewhere: above its target, or untargeted, never below a reserve (a chain's native
  coin keeps ``DEFAULT_NATIVE_RESERVE`` for gas unless the policy says otherwise).
- For each deficit the router first splits the need over every source at once (one request, sources bounded by
  their surplus); each source's share is then one move, routed alone so that its cost is its own. A move below
  ``min_trade`` or above ``max_cost_bps`` (fees + gas + bridge + price impact, against the snapshot's mid prices) is
  skipped and reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from fillpath.model.amounts import from_base_units
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.model.validate import did_you_mean
from fillpath.rebalance.policy import Policy
from fillpath.router import Market, RouteRequest, route
from fillpath.router.plan import Plan
from fillpath.router.snapshot import Snapshot
from fillpath.router.venues.bridge import Bridge, Transfer

DEFAULT_NATIVE_RESERVE = Decimal(1)
BPS = Decimal(10_000)
HALVINGS = 4
"""A move the routes cannot carry whole is tried at half its size, this many times at most."""


@dataclass(frozen=True, slots=True)
class Position:
    asset: str
    held: Decimal
    in_flight: Decimal
    target: Decimal | None
    low: Decimal | None
    high: Decimal | None
    status: str
    """``ok`` (inside its band), ``below``, ``above``, or ``untargeted``."""

    def to_json(self) -> dict[str, Any]:
        return {"asset": self.asset, "held": str(self.held), "in_flight": str(self.in_flight),
                "target": _s(self.target), "low": _s(self.low), "high": _s(self.high),
                "status": self.status}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Move:
    """One swap of the engine: ``amount`` of ``source`` (human units) into ``target`` through ``via``."""

    source: str
    target: str
    amount: Decimal
    amount_units: int
    expected_out: Decimal
    value: Decimal | None
    """What the input is worth at the snapshot's mid (numeraire)."""
    cost: Decimal | None
    """Value in − value out net of gas: fees, gas, bridge fees and price impact (numeraire)."""
    cost_bps: Decimal | None
    via: tuple[str, ...]
    """``kind:venue`` for every leg, in order (``bridge:labbridge:USDC@lab1>USDC@lab2``)."""
    status: str
    """``planned`` or ``skipped``."""
    reason: str | None = None
    plan: Plan | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.partition(":")[0] for v in self.via))

    def to_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "amount": str(self.amount),
                "amount_units": str(self.amount_units), "expected_out": str(self.expected_out),
                "value": _s(self.value), "cost": _s(self.cost), "cost_bps": _s(self.cost_bps), "via": list(self.via),
                "status": self.status, "reason": self.reason}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A deficit no move covers (no surplus of the symbol anywhere, or no route)."""

    asset: str
    missing: Decimal
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"asset": self.asset, "missing": str(self.missing), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    policy: str
    taken_at: str
    positions: tuple[Position, ...]
    moves: tuple[Move, ...]
    shortfalls: tuple[Shortfall, ...]

    @property
    def planned(self) -> tuple[Move, ...]:
        return tuple(m for m in self.moves if m.status == "planned")

    @property
    def notional(self) -> Decimal:
        return sum((m.value or Decimal(0) for m in self.planned), Decimal(0))

    @property
    def in_band(self) -> bool:
        return all(p.status in ("ok", "untargeted") for p in self.positions)

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "taken_at": self.taken_at, "in_band": self.in_band,
                "notional": str(self.notional), "positions": [p.to_json() for p in self.positions],
                "moves": [m.to_json() for m in self.moves],
                "shortfalls": [s.to_json() for s in self.shortfalls]}  # fmt: skip


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def excluded_venues(policy: Policy, snap: Snapshot, halted: frozenset[str] = frozenset()) -> frozenset[str]:
    """Venues the policy's moves may not use: outside ``venues`` (when it lists any), every bridge, deposit and
    withdrawal when ``transfers`` is off, and halted ones (a venue id or a whole location)."""
    out: set[str] = set()
    allowed = set(policy.venues)
    for v in snap.venues:
        places = {v.source.location, v.target.location} if isinstance(v, Bridge) else {v.location}
        if v.id in halted or places & halted:
            out.add(v.id)
            continue
        if isinstance(v, Bridge) and not policy.transfers:  # Transfer is a Bridge
            out.add(v.id)
            continue
        if not allowed:
            continue
        if isinstance(v, Bridge):
            ends = {v.source.location, v.target.location, v.id.partition(":")[0]}
            ok = v.id in allowed or v.id.partition(":")[0] in allowed or ends <= allowed
        else:
            ok = v.id in allowed or v.location in allowed
        if not ok:
            out.add(v.id)
    return frozenset(out)


def _via(plan: Plan, snap: Snapshot) -> tuple[str, ...]:
    kinds = {v.id: v for v in snap.venues}
    out = []
    for leg in plan.legs:
        v = kinds.get(leg.venue)
        if isinstance(v, Transfer):
            kind = "deposit" if leg.asset_out.location in _exchanges(snap) else "withdrawal"
        elif isinstance(v, Bridge):
            kind = "bridge"
        else:
            kind = "swap"
        out.append(f"{kind}:{leg.venue}")
    return tuple(out)


def _exchanges(snap: Snapshot) -> set[str]:
    return {loc.id for loc in snap.locations if str(loc.kind) == "cex" or getattr(loc.kind, "value", "") == "cex"}


class _Book:
    """Human amounts per asset from the snapshot's holdings, and what may still leave each."""

    def __init__(self, snap: Snapshot, policy: Policy, in_flight: Mapping[str, Decimal]) -> None:
        self.snap = snap
        self.decimals = {str(a.id): a.decimals for a in snap.assets}
        self.held: dict[str, Decimal] = {
            str(a): from_base_units(int(n), self.decimals[str(a)]) for a, n in (snap.holdings or {}).items()
        }
        self.flying = {a: Decimal(v) for a, v in in_flight.items()}
        natives = {str(loc.native) for loc in snap.locations if loc.native is not None}
        self.reserve = dict.fromkeys(natives, DEFAULT_NATIVE_RESERVE) | dict(policy.reserve)

    def total(self, symbol: str) -> Decimal:
        assets = {a for a in [*self.held, *self.flying] if a.partition("@")[0] == symbol}
        return sum((self.held.get(a, Decimal(0)) + self.flying.get(a, Decimal(0)) for a in assets), Decimal(0))

    def price(self, asset: str) -> Decimal | None:
        prices = self.snap.prices or {}
        got = prices.get(AssetId.parse(asset))
        if got is not None:
            return got
        symbol = asset.partition("@")[0]  # the same symbol elsewhere: one economic asset
        return next((p for a, p in sorted(prices.items(), key=lambda x: str(x[0])) if a.symbol == symbol), None)


def plan_rebalance(
    policy: Policy,
    snap: Snapshot,
    in_flight: Mapping[str, Decimal] | None = None,
    halted: frozenset[str] = frozenset(),
) -> RebalancePlan:
    """The positions against the policy's bands and the moves that bring them back (see the module's notes);
    ``halted`` venues and locations are not used."""
    book = _Book(snap, policy, in_flight or {})
    for t in policy.targets:
        if t.asset not in book.decimals:
            raise InvalidInput(f"{policy.source}: targets ({t.asset})", "is not an asset of the snapshot",
                               "check the location is configured and read (fillpath snapshot take)")  # fmt: skip

    ids = {v.id for v in snap.venues}
    for k, name in enumerate(policy.venues):
        if ":" in name and name not in ids:  # a venue id (a location or bridge name was checked with the file)
            raise InvalidInput(f"{policy.source}: venues[{k}]", f"{name!r} is not a venue of the snapshot",
                               did_you_mean(name, sorted(ids)))  # fmt: skip

    positions: dict[str, Position] = {}
    targets: dict[str, Decimal] = {}
    for t in policy.targets:
        goal = t.amount if t.amount is not None else book.total(t.symbol) * (t.share or Decimal(0)) / 100
        held, flying = book.held.get(t.asset, Decimal(0)), book.flying.get(t.asset, Decimal(0))
        width = goal * t.band / 100
        low, high = goal - width, goal + width
        have = held + flying
        status = "below" if have < low else "above" if have > high else "ok"
        targets[t.asset] = goal
        positions[t.asset] = Position(t.asset, held, flying, goal, low, high, status)
    symbols = {t.symbol for t in policy.targets}
    for a in sorted(book.held):
        if a not in positions and a.partition("@")[0] in symbols:
            positions[a] = Position(a, book.held[a], book.flying.get(a, Decimal(0)), None, None, None, "untargeted")

    def available(asset: str) -> Decimal:
        """What may leave ``asset`` without pushing it under its target or its reserve."""
        floor = max(targets.get(asset, Decimal(0)), book.reserve.get(asset, Decimal(0)))
        return max(Decimal(0), book.held.get(asset, Decimal(0)) - floor)

    left = {a: available(a) for a in book.held}
    exclude = excluded_venues(policy, snap, halted)
    moves: list[Move] = []
    shortfalls: list[Shortfall] = []
    deficits = sorted((p for p in positions.values() if p.status == "below"),
                      key=lambda p: -((p.target or 0) - p.held - p.in_flight) * (book.price(p.asset) or 1))  # fmt: skip
    for p in deficits:
        assert p.target is not None
        need = p.target - p.held - p.in_flight
        symbol = p.asset.partition("@")[0]
        sources = sorted(a for a, n in left.items() if n > 0 and a != p.asset and a.partition("@")[0] == symbol)
        if not sources:
            shortfalls.append(Shortfall(p.asset, need, f"no {symbol} above its target or reserve elsewhere"))
            continue
        try:
            split = _split(book, sources, p.asset, need, left, exclude, policy)
        except InvalidInput:  # some source has no route, or the routes cannot carry it all: one source at a time
            split = []
        covered, why = Decimal(0), []
        if split:
            for src, amount in split:
                move = _move(book, src, p.asset, amount, exclude, policy)
                if _unroutable(move):
                    why.append(f"{src}: {move.reason}")
                    continue
                moves.append(move)
                if move.status == "planned":
                    left[src] -= amount
                    covered += amount
        else:
            for src in sorted(sources, key=lambda a: -left[a]):
                amount = min(need - covered, left[src])
                for _ in range(HALVINGS):  # a route that cannot carry it all may carry half
                    if amount <= 0:
                        break
                    move = _move(book, src, p.asset, amount, exclude, policy)
                    if _unroutable(move):
                        why.append(f"{src}: {move.reason}")
                        if "no route" in (move.reason or ""):
                            break
                        amount /= 2
                        continue
                    moves.append(move)
                    if move.status == "planned":
                        left[src] -= move.amount
                        covered += move.amount
                    break
        if covered < need and not any(m.target == p.asset and m.status == "skipped" for m in moves):
            # a skipped move is its own report (cost or size); a deficit nothing could reach is a shortfall
            reason = f"{symbol} above target elsewhere that a route can bring here falls short"
            shortfalls.append(Shortfall(p.asset, need - covered, "; ".join([reason, *dict.fromkeys(why)])))
    ordered = sorted(positions.values(), key=lambda q: (q.asset.partition("@")[0], q.asset))
    return RebalancePlan(policy.name, snap.taken_at, tuple(ordered), tuple(moves), tuple(shortfalls))


def _unroutable(move: Move) -> bool:
    """The router found no way (no route, or not this much): not a move to report, a reason for a shortfall."""
    return move.plan is None and move.status == "skipped" and not (move.reason or "").startswith("worth ")


def _units(book: _Book, asset: str, amount: Decimal) -> int:
    """Human → base units, rounded down (a move never takes more than it may)."""
    return int(amount.scaleb(book.decimals[asset]).to_integral_value(rounding="ROUND_DOWN"))


def _split(
    book: _Book,
    sources: list[str],
    target: str,
    need: Decimal,
    left: Mapping[str, Decimal],
    exclude: frozenset[str],
    policy: Policy,
) -> list[tuple[str, Decimal]]:
    """How much of ``need`` each source gives: one route over every source at once (the router takes from the
    cheapest first), bounded by what each may give; sources of different units go one by one, fullest first."""
    give = min(need, sum((left[s] for s in sources), Decimal(0)))
    if len({book.decimals[s] for s in sources}) > 1 or len(sources) == 1:
        out, rest = [], give
        for s in sorted(sources, key=lambda a: -left[a]):
            take = min(rest, left[s])
            if take > 0:
                out.append((s, take))
                rest -= take
        return out
    dec = book.decimals[sources[0]]
    holdings = {AssetId.parse(s): _units(book, s, left[s]) for s in sources}
    bounded = replace(book.snap, holdings=holdings)
    request = RouteRequest(",".join(sources), _units(book, sources[0], give), target,
                           slippage_bps=policy.slippage_bps, exclude=exclude)  # fmt: skip
    plan = route(Market.from_snapshot(bounded), request)
    produced = {leg.asset_out for leg in plan.legs}
    taken: dict[str, int] = {}
    for leg in plan.legs:
        if str(leg.asset_in) in sources and leg.asset_in not in produced:
            taken[str(leg.asset_in)] = taken.get(str(leg.asset_in), 0) + leg.amount_in
    return [(s, from_base_units(n, dec)) for s, n in sorted(taken.items()) if n > 0]


def _move(book: _Book, source: str, target: str, amount: Decimal, exclude: frozenset[str], policy: Policy) -> Move:
    units = _units(book, source, amount)
    human = from_base_units(units, book.decimals[source])
    price_in = book.price(source)
    value = None if price_in is None else human * price_in
    if value is not None and value < policy.min_trade:
        return Move(source, target, human, units, Decimal(0), value, None, None, (), "skipped",
                    f"worth {value:.2f}, under min_trade {policy.min_trade}")  # fmt: skip
    try:
        request = RouteRequest(source, units, target, slippage_bps=policy.slippage_bps, exclude=exclude)
        plan = route(Market.from_snapshot(book.snap), request)
    except InvalidInput as exc:
        return Move(source, target, human, units, Decimal(0), value, None, None, (), "skipped", str(exc))
    out = from_base_units(plan.net_out, book.decimals[target])
    price_out = book.price(target)
    cost = cost_bps = None
    if value is not None and price_out is not None and value > 0:
        cost = value - out * price_out
        cost_bps = (cost / value * BPS).quantize(Decimal("0.01"))
    via = _via(plan, book.snap)
    if cost_bps is not None and cost_bps > policy.max_cost_bps:
        return Move(source, target, human, units, from_base_units(plan.expected_out, book.decimals[target]), value,
                    cost, cost_bps, via, "skipped", f"costs {cost_bps} bps, over max_cost_bps {policy.max_cost_bps}",
                    plan)  # fmt: skip
    expected = from_base_units(plan.expected_out, book.decimals[target])
    return Move(source, target, human, units, expected, value, cost, cost_bps, via, "planned", None, plan)
