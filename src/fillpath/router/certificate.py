"""The certificate: an upper bound on the output any plan on these venues can deliver, from the solve's prices.

Weak duality: for node prices ν ≥ 0 with the sinks at 1, ``Σ supply·ν + Σ_arcs max_x (ν_out·out(x) − ν_in·x)``
bounds the output of every flow over the arcs (a plan is one, its legs' exact quotes never above the float curves;
a bridge's fixed fee is left out of its curve, which only raises the bound). It holds for *any* such prices; the
solve's prices make it tight. The bound is over every direction the hop-limited graph admits, so it also bounds the
best plan within ``max_hops`` (each path's directions are among them).

Two details keep it honest in floats: a transfer with no practical cap (10^30) turns a price tie broken by float
noise into a huge arbitrage term, so near-ties on such arcs are closed before evaluating (any prices are valid);
and the result is rounded up with a relative margin far above float error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fillpath.router.curves import FloatCurve, PiecewiseLinearCurve
from fillpath.router.perspective import perspective_prices

TIES = (1e-6, 1e-4)
"""Relative gaps under which the prices across a linear arc are treated as a tie (and closed): the bound is taken at
each closing and the smallest kept. The solve smooths linear arcs with a temperature down to 1e-5, so prices across
a tied transfer differ by up to that much; across an uncapped one (10^30) that float gap would dominate the bound."""
MARGIN = 1e-9
"""Relative round-up of the float evaluation (its error is ~1e-13 on a few hundred arcs)."""


def _close_ties(
    nu: list[float], arcs: Sequence[tuple[int, int, FloatCurve]], fixed: frozenset[int], tie: float
) -> None:
    for _ in range(len(nu)):
        changed = False
        for tail, head, curve in arcs:
            if tail in fixed or not isinstance(curve, PiecewiseLinearCurve):
                continue
            want = curve.spot * nu[head]
            exact = curve.spot == 1.0 and nu[tail] == want  # an exact tie at rate 1: its term is exactly 0
            if not exact and nu[head] > 0.0 and nu[tail] / nu[head] <= curve.spot and want <= nu[tail] * (1.0 + tie):
                # at rate 1 an exact tie (a zero-fee transfer back must see it too); else a hair above it, so the
                # float ratio cannot fall below the rate (an uncapped arc would count 10^30 times the rounding error)
                nu[tail] = want if curve.spot == 1.0 else want * (1.0 + 1e-12)
                changed = True
        if not changed:
            return


def _source_term(nu: Sequence[float], sources: Sequence[tuple[int, float]], amount: float) -> float:
    """``min_{ν0 ≥ 0} ν0·amount + Σ cap_s·max(0, ν_s − ν0)``: the super-source that splits ``amount`` over sources
    holding ``cap_s`` each (one source: its price times the amount). Piecewise linear in ν0: a breakpoint wins."""
    if len(sources) == 1:
        return nu[sources[0][0]] * amount
    candidates = [0.0, *(nu[s] for s, _ in sources)]
    return min(p * amount + sum(c * max(0.0, nu[s] - p) for s, c in sources) for p in candidates)


def upper_bound(
    prices: Sequence[float],
    arcs: Sequence[tuple[int, int, FloatCurve]],
    sources: Sequence[tuple[int, float]],
    amount: float,
    sinks: frozenset[int],
    fixed: FixedCosts | None = None,
    *,
    descend: bool = False,
) -> int:
    """An upper bound (base units of the sinks, rounded up) on the output of any flow over ``arcs`` that sells
    ``amount`` from ``sources`` (node, holdings), given any prices (non-finite or negative ones are raised to 0).
    Every price vector gives a valid bound, so the smallest over a few closings of near-ties is one too. With
    ``fixed`` costs the bound is on the output net of them (see :class:`FixedCosts`); ``descend``: then lowered by
    coordinate descent from the given prices (:func:`_descend`)."""
    return priced_bound(prices, arcs, sources, amount, sinks, fixed, descend=descend)[0]


def priced_bound(
    prices: Sequence[float],
    arcs: Sequence[tuple[int, int, FloatCurve]],
    sources: Sequence[tuple[int, float]],
    amount: float,
    sinks: frozenset[int],
    fixed: FixedCosts | None = None,
    *,
    descend: bool = False,
    smooth: bool = False,
) -> tuple[int, list[float]]:
    """:func:`upper_bound` and the prices it was reached at (a warm start for a related bound: the branch and bound
    descends a child from its parent's prices). ``smooth``: first the perspective relaxation's prices by Newton
    (:func:`~fillpath.router.perspective.perspective_prices`), then the descent from the best so far."""
    base = [p if math.isfinite(p) and p > 0.0 else 0.0 for p in prices]
    for t in sinks:
        base[t] = 1.0
    best = math.inf
    start = base
    for tie in TIES:
        nu = list(base)
        _close_ties(nu, arcs, sinks, tie)
        value = _value(nu, arcs, sources, amount, fixed)
        if value < best:
            best, start = value, nu
    if fixed is not None and smooth:
        # the perspective relaxation by Newton (:mod:`.perspective`) from the best prices so far: the exact h at the
        # end of each of its stages (any prices give a valid bound; the least is kept)
        for nu in perspective_prices(start, arcs, sources, amount, sinks, fixed):
            _close_ties(nu, arcs, sinks, TIES[0])
            value = _value(nu, arcs, sources, amount, fixed)
            if value < best:
                best, start = value, nu
    if fixed is not None and descend:
        nu = _descend(start, arcs, sources, amount, sinks, fixed)
        _close_ties(nu, arcs, sinks, TIES[0])
        value = _value(nu, arcs, sources, amount, fixed)
        if value < best:
            best, start = value, nu
    return math.ceil(best * (1.0 + MARGIN)) + 1, start


def venue_parts(prices: Sequence[float], arcs: Sequence[tuple[int, int, FloatCurve]], fixed: FixedCosts) -> list[float]:
    """Per venue index: its arcs' terms at ``prices`` net of its fixed costs, before the ``max(0, ·)`` of the one-pass
    rule: a venue near 0 is a close call of the relaxation (half open), the one to branch on."""
    held = fixed.held or [math.inf] * len(arcs)
    parts = [-g for g in fixed.gas]
    for k, (tail, head, curve) in enumerate(arcs):
        if prices[head] > 0.0:
            parts[fixed.venue[k]] += _arc_term(prices, tail, head, curve, held[k]) - prices[head] * fixed.lost[k]
    return parts


@dataclass(frozen=True)
class FixedCosts:
    """Fixed costs, the mixed-integer part: a venue used at all pays its gas (sink units) and, per arc, a fixed fee
    taken from the input (``lost`` head units: the fee times the arc's least rate, never more than the venue takes).

    A plan that uses the venues of a set T is a flow of the convex problem in which each arc of T delivers its curve
    less its ``lost`` units (a negative supply at its head) and T's gas is paid: weak duality bounds it by
    ``g_T(ν) = g_base(ν) + Σ_{v∈T} (terms_v(ν) − lost_v·ν_head − gas_v)`` at any prices ν. The best over every T is
    the base plus each venue's term net of its fixed costs where positive: one pass, no enumeration."""

    venue: Sequence[int]
    """Per arc: its venue's index (arcs of one venue share its gas)."""
    lost: Sequence[float]
    """Per arc: head units its fixed fee costs (0 if none)."""
    gas: Sequence[float]
    """Per venue index: gas in sink units."""
    forced: frozenset[int] = frozenset()
    """Venue indices known to be used (a pattern of the enumeration): their fixed costs count in full."""
    held: Sequence[float] = ()
    """Per arc (if given): the most input any plan can put on it, ``inf`` if unknown (see :func:`holdings`)."""
    banned: frozenset[int] = frozenset()
    """Venue indices no plan bounded here uses (a branch of the enumeration): their terms count 0."""


def holdings(
    arcs: Sequence[tuple[int, int, FloatCurve]],
    sources: Sequence[tuple[int, float]],
    amount: float,
    n: int,
    sinks: frozenset[int],
) -> list[float]:
    """Per node: the most a plan selling ``amount`` can hold there (``inf`` where no bound is known).

    With values π (the best spot-rate completion to the sinks, so that ``π_tail ≥ spot·π_head`` on every arc) no leg
    creates value (``π_head·out(x) ≤ π_head·spot·x ≤ π_tail·x``: the curves are concave), and a plan is acyclic, so a
    node never holds more than the sale's value over its own: ``amount·max π_source / π_j``. A bound on the flow an
    arc can carry is a valid constraint of the convex problem, so the dual may cap each arc's input at it: the dual
    term of a deep pool at prices well below its spot rate then counts only the sale's size, not the pool's depth.
    That is what lets a bound with fixed costs (gas) fall near the best plan on a small sale. With a cycle that gains
    at spot rates, no π exists: no bound (``inf`` everywhere)."""
    pi = [0.0] * n
    pi_sources = {s for s, _ in sources}
    # Bellman-Ford on products from the sinks and the nodes with no arc out at 1: any such π will do
    tails = {t for t, _, _ in arcs}
    for j in range(n):
        if j in sinks or j not in tails:
            pi[j] = 1.0
    for _ in range(n + 1):
        changed = False
        for t, h, c in arcs:
            v = c.spot * pi[h]
            if v > pi[t] * (1.0 + 1e-12):
                pi[t] = v
                changed = True
        if not changed:
            break
    else:
        return [math.inf] * n
    if any(c.spot * pi[h] > pi[t] * (1.0 + 1e-9) for t, h, c in arcs):
        return [math.inf] * n
    value = max((pi[s] for s in pi_sources), default=0.0) * amount
    return [value / p * (1.0 + 1e-9) if p > 0.0 else math.inf for p in pi]


SWEEPS = 4
"""Coordinate-descent sweeps over the nodes for the fixed-cost bound."""
SECTIONS = 20
"""Golden-section steps per node and sweep, once the minimum is bracketed (the bracket shrinks to 0.618^20 ≈ 7e-5)."""


def _arc_term(nu: Sequence[float], tail: int, head: int, curve: FloatCurve, held: float = math.inf) -> float:
    """``max_{0 ≤ x ≤ held} ν_head·out(x) − ν_tail·x`` (the objective is concave in x: the unconstrained maximizer,
    clipped)."""
    no = nu[head]
    if no <= 0.0:
        return 0.0
    ni = nu[tail]
    if ni <= 0.0:  # a free input: the arc's whole output (an uncapped pool's tends to its output reserve)
        return no * curve.out(min(curve.cap, held, 1e300))
    x, o = curve.arb(ni / no, 0.0)
    if x > held:
        x, o = held, curve.out(held)
    return max(0.0, no * o - ni * x) if x > 0.0 else 0.0


def _descend(
    start: Sequence[float],
    arcs: Sequence[tuple[int, int, FloatCurve]],
    sources: Sequence[tuple[int, float]],
    amount: float,
    sinks: frozenset[int],
    fixed: FixedCosts,
) -> list[float]:
    """Prices that lower the fixed-cost bound ``h(ν) = source term + Σ_venues max(0, term_v(ν) − fixed_v(ν))``.

    ``h`` is convex (each venue's part is the largest of 0 and a convex function of ν) and any ν gives a valid
    bound, so minimizing it is a search, never a risk. It is the Lagrangian dual of the problem with on/off venues:
    its minimum is the bound of the convex hull of each venue's fixed-charge curve (the perspective relaxation).
    The convex solve's prices make every venue's term large, since there no venue pays anything to open: on a $1,136
    sale with $5 of gas per pool, the bound at them was the sale's whole spot value, 4.7e-3 above the best plan. Here
    each free node's price in turn is set to the minimum of ``h`` along it (:func:`_line_min`; ``h`` is convex along
    every line), a few sweeps. Coordinate descent can stop short of the minimum of a non-smooth ``h``;
    it only ever lowers the bound."""
    nu = list(start)
    n = len(nu)
    venue, lost, gas, forced, banned = fixed.venue, fixed.lost, fixed.gas, fixed.forced, fixed.banned
    touching: list[list[int]] = [[] for _ in range(n)]
    for k, (tail, head, _) in enumerate(arcs):
        if venue[k] in banned:
            continue  # counts 0 whatever the prices
        touching[tail].append(k)
        if head != tail:
            touching[head].append(k)
    held = fixed.held or [math.inf] * len(arcs)
    vals = [
        _arc_term(nu, t, h, c, held[k]) - nu[h] * lost[k] if nu[h] > 0.0 else 0.0 for k, (t, h, c) in enumerate(arcs)
    ]
    sums = [0.0] * len(gas)
    for k, v in enumerate(vals):
        sums[venue[k]] += v
    is_source = {s for s, _ in sources}

    def part(v: int, total: float) -> float:
        if v in banned:
            return 0.0
        return total - gas[v] if v in forced else max(0.0, total - gas[v])

    def around(members: Sequence[int]) -> tuple[list[int], list[int], list[int], bool]:
        """The arcs touching ``members``, their venues, those venues once, and whether a source is among them: the
        only parts of ``h`` a move of the members' prices changes."""
        ks = list(dict.fromkeys(k for j in members for k in touching[j]))
        own = [venue[k] for k in ks]
        return ks, own, sorted(set(own)), any(j in is_source for j in members)

    def local(ks: list[int], own: list[int], mine: list[int], src: bool) -> float:
        delta = dict.fromkeys(mine, 0.0)
        for k, v in zip(ks, own, strict=True):
            t, h, c = arcs[k]
            new = _arc_term(nu, t, h, c, held[k]) - nu[h] * lost[k] if nu[h] > 0.0 else 0.0
            delta[v] += new - vals[k]
        out = _source_term(nu, sources, amount) if src else 0.0
        return out + sum(part(v, sums[v] + delta[v]) for v in mine)

    def commit(ks: list[int]) -> None:
        for k in ks:
            t, h, c = arcs[k]
            new = _arc_term(nu, t, h, c, held[k]) - nu[h] * lost[k] if nu[h] > 0.0 else 0.0
            sums[venue[k]] += new - vals[k]
            vals[k] = new

    for _ in range(SWEEPS):
        improved = 0.0
        lowered = False
        for j in range(n):
            if j in sinks or not touching[j]:
                continue
            near = around((j,))
            keep = nu[j]

            def at(p: float, j: int = j, near: tuple[list[int], list[int], list[int], bool] = near) -> float:
                nu[j] = p
                return local(*near)

            now = at(keep)
            p, fp = _line_min(at, keep, now)
            if fp < now or (fp <= now and p < keep):
                improved += now - fp
                lowered = lowered or p < keep
                nu[j] = p
                commit(near[0])
            else:
                nu[j] = keep
        moved = False
        for members in _tied_groups(nu, arcs, sinks):
            # scale the group together (see :func:`_tied_groups`)
            near = around(members)
            keep_all = [nu[j] for j in members]

            def scaled(
                f: float,
                members: list[int] = members,
                keep_all: list[float] = keep_all,
                near: tuple[list[int], list[int], list[int], bool] = near,
            ) -> float:
                for j, p in zip(members, keep_all, strict=True):
                    nu[j] = p * f
                return local(*near)

            now = scaled(1.0)
            f, fv = _line_min(scaled, 1.0, now)
            scaled(f if fv < now else 1.0)
            commit(near[0])
            moved = moved or fv < now - 1e-12 * abs(now)
        if improved <= 1e-9 * abs(_value(nu, arcs, sources, amount, fixed)) and not lowered and not moved:
            break
    return nu


def _tied_groups(
    nu: list[float], arcs: Sequence[tuple[int, int, FloatCurve]], sinks: frozenset[int]
) -> list[list[int]]:
    """Groups of nodes tied by linear arcs at their rate (a transfer, a bridge, a book level that is just on): a move
    of one alone opens a large term on the tie, so coordinate descent stalls there, though moving the whole group
    together may lower the bound. Groups holding a sink, and groups priced 0, are left out."""
    parent = list(range(len(nu)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for t, h, c in arcs:
        if isinstance(c, PiecewiseLinearCurve) and nu[h] > 0.0:
            for r in c.rates:
                if abs(nu[t] - r * nu[h]) <= 1e-9 * nu[t]:
                    parent[find(t)] = find(h)
                    break
    groups: dict[int, list[int]] = {}
    for j in range(len(nu)):
        groups.setdefault(find(j), []).append(j)
    return [
        members
        for members in groups.values()
        if len(members) >= 2 and not any(j in sinks for j in members) and not all(nu[j] <= 0.0 for j in members)
    ]


_GOLD = (math.sqrt(5.0) - 1.0) / 2.0
FIRST_STEP = 1e-5
"""The first trial move of a node's price (relative); the moves then grow 4x while they lower the bound."""


def _line_min(f: Callable[[float], float], x0: float, f0: float) -> tuple[float, float]:
    """A minimizer of the convex ``f`` on ``x ≥ 0`` near ``x0``, the lowest ``x`` among ties: a move of
    ``FIRST_STEP`` each way (down first, taken if ``f`` does not rise: on a plateau a lower price leaves more room to
    the nodes upstream); moves growing 4x that way bracket the minimum (stopping at 0 or 64·x0), then golden section.
    Returns (x, f(x)); (x0, f0) when neither first move helps."""
    if x0 <= 0.0:
        return x0, f0
    for sign in (-1.0, 1.0):
        step = FIRST_STEP * x0
        x1 = x0 + sign * step
        f1 = f(x1)
        if f1 > f0 or (sign > 0.0 and f1 >= f0):
            continue
        prev, cur, fcur = x0, x1, f1
        while True:
            step *= 4.0
            nxt = max(0.0, cur - step) if sign < 0.0 else min(64.0 * x0, cur + step)
            fn = f(nxt)
            if fn > fcur or (sign > 0.0 and fn >= fcur) or nxt in (0.0, 64.0 * x0):
                if fn < fcur or (sign < 0.0 and fn <= fcur):
                    return nxt, fn
                lo, hi = (nxt, prev) if sign < 0.0 else (prev, nxt)
                break
            prev, cur, fcur = cur, nxt, fn
        a, b = hi - _GOLD * (hi - lo), lo + _GOLD * (hi - lo)
        fa, fb = f(a), f(b)
        for _ in range(SECTIONS):
            if fa <= fb:
                hi, b, fb = b, a, fa
                a = hi - _GOLD * (hi - lo)
                fa = f(a)
            else:
                lo, a, fa = a, b, fb
                b = lo + _GOLD * (hi - lo)
                fb = f(b)
        return min(((a, fa), (b, fb), (cur, fcur)), key=lambda t: (t[1], t[0]))
    return x0, f0


def _value(
    nu: Sequence[float],
    arcs: Sequence[tuple[int, int, FloatCurve]],
    sources: Sequence[tuple[int, float]],
    amount: float,
    fixed: FixedCosts | None = None,
) -> float:
    value = _source_term(nu, sources, amount)
    per_venue = [0.0] * len(fixed.gas) if fixed is not None else []
    held = fixed.held if fixed is not None and fixed.held else None
    for k, (tail, head, curve) in enumerate(arcs):
        no = nu[head]
        if no <= 0.0:
            continue
        term = _arc_term(nu, tail, head, curve, held[k] if held is not None else math.inf)
        if fixed is None:
            value += term
        else:
            per_venue[fixed.venue[k]] += term - no * fixed.lost[k]
    if fixed is not None:
        value += sum(
            0.0 if k in fixed.banned else t - g if k in fixed.forced else max(0.0, t - g)
            for k, (t, g) in enumerate(zip(per_venue, fixed.gas, strict=True))
        )
    return value
