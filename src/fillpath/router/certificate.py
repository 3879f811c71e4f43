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
from collections.abc import Sequence
from dataclasses import dataclass

from fillpath.router.curves import FloatCurve, PiecewiseLinearCurve

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
) -> int:
    """An upper bound (base units of the sinks, rounded up) on the output of any flow over ``arcs`` that sells
    ``amount`` from ``sources`` (node, holdings), given any prices (non-finite or negative ones are raised to 0).
    Every price vector gives a valid bound, so the smallest over a few closings of near-ties is one too. With
    ``fixed`` costs the bound is on the output net of them (see :class:`FixedCosts`)."""
    base = [p if math.isfinite(p) and p > 0.0 else 0.0 for p in prices]
    for t in sinks:
        base[t] = 1.0
    best = math.inf
    for tie in TIES:
        nu = list(base)
        _close_ties(nu, arcs, sinks, tie)
        best = min(best, _value(nu, arcs, sources, amount, fixed))
    return math.ceil(best * (1.0 + MARGIN)) + 1


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


def _value(
    nu: Sequence[float],
    arcs: Sequence[tuple[int, int, FloatCurve]],
    sources: Sequence[tuple[int, float]],
    amount: float,
    fixed: FixedCosts | None = None,
) -> float:
    value = _source_term(nu, sources, amount)
    per_venue = [0.0] * len(fixed.gas) if fixed is not None else []
    for k, (tail, head, curve) in enumerate(arcs):
        no = nu[head]
        if no <= 0.0:
            continue
        ni = nu[tail]
        term = 0.0
        if ni <= 0.0:  # a free input: the arc's whole output (an uncapped pool's tends to its output reserve)
            term = no * curve.out(min(curve.cap, 1e300))
        else:
            x, o = curve.arb(ni / no, 0.0)
            if x > 0.0:
                term = max(0.0, no * o - ni * x)
        if fixed is None:
            value += term
        else:
            per_venue[fixed.venue[k]] += term - no * fixed.lost[k]
    if fixed is not None:
        value += sum(
            t - g if k in fixed.forced else max(0.0, t - g)
            for k, (t, g) in enumerate(zip(per_venue, fixed.gas, strict=True))
        )
    return value
