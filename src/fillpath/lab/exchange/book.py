"""A symbol's synthetic order book: seeded levels around a best bid that moves by a seeded random walk.

The synthetic levels are the market's own liquidity; users' resting orders sit on top of them as an overlay
(``user_bids``/``user_asks``, remaining quantity per price) and show in the public depth. Takers deplete the
synthetic levels until the next walk step regenerates them around the new price. Every change gets an
update id, and :meth:`SyntheticBook.commit` returns the diff since the last commit, so the REST depth
(``lastUpdateId``) and the diff stream (``U``/``u``) tell one consistent story.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from fillpath.lab.exchange.config import MarketSpec

Level = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class DepthDiff:
    """Levels that changed between two commits (quantity 0 = level removed), ids ``first..last``."""

    symbol: str
    first_update_id: int
    last_update_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value`` (exact)."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


class SyntheticBook:
    """Levels are kept best-first: bids descending, asks ascending."""

    def __init__(self, spec: MarketSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"{seed}:{spec.symbol}")
        half = Decimal(spec.spread_ticks) * spec.tick / 2
        self.bid_index = int(((spec.mid - half) / spec.tick).to_integral_value(rounding=ROUND_DOWN))
        self.update_id = 1
        self.bids: list[list[Decimal]] = []
        self.asks: list[list[Decimal]] = []
        self._published_bids: dict[Decimal, Decimal] = {}
        self._published_asks: dict[Decimal, Decimal] = {}
        self.steps = 0
        self.user_bids: dict[Decimal, Decimal] = {}
        self.user_asks: dict[Decimal, Decimal] = {}
        self._dirty_bids: dict[Decimal, Decimal] = {}
        self._dirty_asks: dict[Decimal, Decimal] = {}
        self._rebuilt = True
        """Takers mark the levels they touch; a regenerated book is diffed whole at the next commit."""
        self._regenerate()
        self._published_bids = _as_map(self.bids)
        self._published_asks = _as_map(self.asks)
        self._rebuilt = False

    # -- prices -----------------------------------------------------------------------------------

    @property
    def best_bid(self) -> Decimal | None:
        bids = self._merged("SELL")
        return bids[0][0] if bids else None

    @property
    def best_ask(self) -> Decimal | None:
        asks = self._merged("BUY")
        return asks[0][0] if asks else None

    @property
    def mid(self) -> Decimal:
        tick = self.spec.tick
        bid = Decimal(self.bid_index) * tick
        return bid + Decimal(self.spec.spread_ticks) * tick / 2

    # -- moving -----------------------------------------------------------------------------------

    def step(self, multiplier: int = 1) -> int:
        """One random-walk step (``multiplier`` scales the largest move, for volatility bursts)."""
        span = self.spec.max_step_ticks * max(1, multiplier)
        move = self._rng.randint(-span, span)
        floor_index = self.spec.levels * self.spec.spacing_ticks + 1
        self.bid_index = max(floor_index, self.bid_index + move)
        self.steps += 1
        self._regenerate()
        return move

    def _regenerate(self) -> None:
        spec = self.spec
        n = spec.levels
        bids: list[list[Decimal]] = []
        asks: list[list[Decimal]] = []
        ask_index = self.bid_index + spec.spread_ticks
        for i in range(n):
            shape = spec.first_qty + (spec.last_qty - spec.first_qty) * Decimal(i) / Decimal(max(1, n - 1))
            for side, index in (
                (bids, self.bid_index - i * spec.spacing_ticks),
                (asks, ask_index + i * spec.spacing_ticks),
            ):
                wobble = Decimal(self._rng.randint(-1000, 1000)) / 1000 * spec.jitter
                qty = max(spec.step, floor_to(shape * (1 + wobble), spec.step))
                price = Decimal(index) * spec.tick
                if price > 0:
                    side.append([price, qty])
        self.bids, self.asks = bids, asks
        self._rebuilt = True

    def set_levels(self, bids: list[Level], asks: list[Level]) -> None:
        """Replace the book (tests); the next walk step regenerates around the new best bid."""
        self.bids = sorted(([p, q] for p, q in bids if q > 0), key=lambda lv: -lv[0])
        self.asks = sorted(([p, q] for p, q in asks if q > 0), key=lambda lv: lv[0])
        self._rebuilt = True
        if self.bids:
            self.bid_index = int(self.bids[0][0] / self.spec.tick)
        elif self.asks:
            self.bid_index = int(self.asks[0][0] / self.spec.tick) - self.spec.spread_ticks

    def set_mid(self, mid: Decimal) -> None:
        half = Decimal(self.spec.spread_ticks) * self.spec.tick / 2
        self.bid_index = int(((mid - half) / self.spec.tick).to_integral_value(rounding=ROUND_DOWN))
        self._regenerate()

    # -- taking -----------------------------------------------------------------------------------

    def side_for_taker(self, taker_side: str) -> list[list[Decimal]]:
        return self.asks if taker_side == "BUY" else self.bids

    def _user_side(self, order_side: str) -> dict[Decimal, Decimal]:
        return self.user_bids if order_side == "BUY" else self.user_asks

    def _merged(self, taker_side: str) -> list[Level]:
        """The side a taker hits, synthetic plus users' resting quantity, best first."""
        synthetic = self.side_for_taker(taker_side)
        users = self.user_asks if taker_side == "BUY" else self.user_bids
        if not users:
            return [(p, q) for p, q in synthetic]
        merged = dict(users)
        for price, qty in synthetic:
            merged[price] = merged.get(price, Decimal(0)) + qty
        return sorted(merged.items(), key=lambda lv: lv[0] if taker_side == "BUY" else -lv[0])

    def plan(
        self,
        taker_side: str,
        *,
        limit_price: Decimal | None = None,
        max_qty: Decimal | None = None,
        max_quote: Decimal | None = None,
        exclude: dict[Decimal, Decimal] | None = None,
        synthetic_only: bool = False,
    ) -> list[Level]:
        """The (price, qty) a taker would get, best first, without changing the book.

        ``exclude`` is quantity the taker may not hit (its own resting orders); ``synthetic_only`` leaves the
        users' orders out (a resting order crossed by the moving market only meets the market's liquidity).
        """
        out: list[Level] = []
        qty_left, quote_left = max_qty, max_quote
        step = self.spec.step
        users = self.user_asks if taker_side == "BUY" else self.user_bids
        levels: Iterable[Sequence[Decimal]] = (
            self.side_for_taker(taker_side) if synthetic_only or not users else self._merged(taker_side)
        )
        for price, total in levels:
            if limit_price is not None and (price > limit_price if taker_side == "BUY" else price < limit_price):
                break
            available = total - (exclude or {}).get(price, Decimal(0))
            if available <= 0:
                continue
            take = available
            if qty_left is not None:
                take = min(take, qty_left)
            if quote_left is not None:
                take = min(take, floor_to(quote_left / price, step))
            if take <= 0:
                break
            out.append((price, take))
            if qty_left is not None:
                qty_left -= take
            if quote_left is not None:
                quote_left -= take * price
        return out

    def synthetic_at(self, taker_side: str, price: Decimal) -> Decimal:
        return next((q for p, q in self.side_for_taker(taker_side) if p == price), Decimal(0))

    def add_user(self, order_side: str, price: Decimal, delta: Decimal) -> None:
        """A user's resting quantity at ``price`` changed by ``delta`` (rested, filled or cancelled)."""
        users = self._user_side(order_side)
        qty = users.get(price, Decimal(0)) + delta
        if qty > 0:
            users[price] = qty
        else:
            users.pop(price, None)
        taker_side = "SELL" if order_side == "BUY" else "BUY"
        dirty = self._dirty_bids if order_side == "BUY" else self._dirty_asks
        dirty[price] = self.synthetic_at(taker_side, price) + max(qty, Decimal(0))

    def consume(self, taker_side: str, price: Decimal, qty: Decimal) -> None:
        """Remove ``qty`` at ``price`` from the side a taker on ``taker_side`` hits."""
        levels = self.side_for_taker(taker_side)
        dirty = self._dirty_asks if taker_side == "BUY" else self._dirty_bids
        users = self.user_asks if taker_side == "BUY" else self.user_bids
        for i, level in enumerate(levels):
            if level[0] == price:
                level[1] -= qty
                dirty[price] = max(level[1], Decimal(0)) + users.get(price, Decimal(0))
                if level[1] <= 0:
                    del levels[i]
                return
        raise ValueError(f"no level at {price}")

    # -- publishing -------------------------------------------------------------------------------

    def depth(self, limit: int) -> tuple[list[Level], list[Level]]:
        """The public book: synthetic levels plus users' resting orders, ``limit`` levels a side."""
        if not self.user_bids and not self.user_asks:
            return [(p, q) for p, q in self.bids[:limit]], [(p, q) for p, q in self.asks[:limit]]
        return self._merged("SELL")[:limit], self._merged("BUY")[:limit]

    def commit(self) -> DepthDiff | None:
        """Close one update: the changed levels since the last commit, or None if nothing changed."""
        if self._rebuilt:
            bids, asks = dict(self._merged("SELL")), dict(self._merged("BUY"))
            bid_changes = _changes(self._published_bids, bids)
            ask_changes = _changes(self._published_asks, asks)
            self._published_bids, self._published_asks = bids, asks
        else:  # only taker-touched levels changed
            bid_changes, ask_changes = tuple(self._dirty_bids.items()), tuple(self._dirty_asks.items())
            _apply(self._published_bids, bid_changes)
            _apply(self._published_asks, ask_changes)
        self._rebuilt = False
        self._dirty_bids, self._dirty_asks = {}, {}
        if not bid_changes and not ask_changes:
            return None
        self.update_id += 1
        return DepthDiff(self.spec.symbol, self.update_id, self.update_id, bid_changes, ask_changes)


def _as_map(levels: list[list[Decimal]]) -> dict[Decimal, Decimal]:
    return {level[0]: level[1] for level in levels}


def _apply(levels: dict[Decimal, Decimal], changes: tuple[Level, ...]) -> None:
    for price, qty in changes:
        if qty == 0:
            levels.pop(price, None)
        else:
            levels[price] = qty


def _changes(before: dict[Decimal, Decimal], after: dict[Decimal, Decimal]) -> tuple[Level, ...]:
    changed = [(p, q) for p, q in after.items() if before.get(p) != q]
    changed += [(p, Decimal(0)) for p in before if p not in after]
    return tuple(changed)
