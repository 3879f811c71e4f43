"""A plan as steps: the requests the engine sends, and which of them must wait for another's output.

A *step* is one request at one location: on a chain, every leg the executor can run in one transaction; on an
exchange, one order. A step that spends what another step produces depends on it and is prepared, recorded and
sent only once that output has arrived (and then spends what actually arrived). Steps with no dependency are the
*roots*: the engine records all of them in one journal commit at the decision and sends them at once.

Pure: no I/O. The runner registry says, per leg, which kind of runner takes it and whether that kind batches the
legs of one location into one request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.plan import Plan, PlanLeg


@dataclass(frozen=True, slots=True)
class RunnerKey:
    """Which runner takes a leg: its kind at its location, and whether the kind batches legs (one request)."""

    kind: str
    location: str
    batched: bool


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    """Unique in the plan: the location for a batched step (``lab1``, ``lab1#2`` when a later one waits for
    another location's output), ``location-i`` for the i-th single-leg step there."""
    key: RunnerKey
    legs: tuple[PlanLeg, ...]
    depends: frozenset[str]
    level: int
    """0 for a root; else one more than the deepest step it waits for (execution order)."""


def leg_key(leg: PlanLeg) -> tuple[str, AssetId, AssetId]:
    """A leg's identity in its plan: a venue appears at most once per direction (SNAPSHOT.md)."""
    return (leg.venue, leg.asset_in, leg.asset_out)


@dataclass
class _Building:
    key: RunnerKey
    level: int
    legs: list[PlanLeg] = field(default_factory=list)
    depends: set[str] = field(default_factory=set)


def plan_steps(plan: Plan, runner_of: Callable[[PlanLeg], RunnerKey | None]) -> list[Step]:
    """Group ``plan``'s legs (in their executable order) into steps with dependencies, roots first.

    A batched leg joins its location's step at the level its inputs allow: the level of a producer in that same
    step, or one past a producer elsewhere. A leg no runner takes is refused (``InvalidInput``).
    """
    producers: dict[AssetId, list[str]] = {}  # asset → the steps that produce it
    steps: dict[str, _Building] = {}
    singles: dict[str, int] = {}
    for leg in plan.legs:
        key = runner_of(leg)
        if key is None:
            raise InvalidInput("plan", f"leg on {leg.venue} is not executable here", "exclude it from the route")
        sources = producers.get(leg.asset_in, [])
        if key.batched:
            level = max((steps[s].level + (0 if steps[s].key == key else 1) for s in sources), default=0)
            sid = key.location if level == 0 else f"{key.location}#{level}"
        else:
            level = max((steps[s].level + 1 for s in sources), default=0)
            singles[key.location] = singles.get(key.location, -1) + 1
            sid = f"{key.location}-{singles[key.location]}"
        step = steps.setdefault(sid, _Building(key, level))
        step.legs.append(leg)
        step.depends.update(s for s in sources if s != sid)
        producers.setdefault(leg.asset_out, []).append(sid)
    steps = _one_output_each(plan.legs, steps)
    built = [Step(sid, b.key, tuple(b.legs), frozenset(b.depends), b.level) for sid, b in steps.items()]
    return sorted(built, key=lambda s: s.level)


def _finals(legs: Sequence[PlanLeg]) -> list[AssetId]:
    """What a batched step's legs deliver: the outputs no leg of the step spends (one executor call: one)."""
    spent = {leg.asset_in for leg in legs}
    return [a for a in dict.fromkeys(leg.asset_out for leg in legs) if a not in spent]


def _one_output_each(legs: Sequence[PlanLeg], steps: dict[str, _Building]) -> dict[str, _Building]:
    """Split every batched step whose legs end in several assets (USDC kept on the chain, ETH wrapped for a deposit)
    into one step per delivered asset, each with the legs that lead to it: an executor call delivers one asset.
    Dependencies are then drawn again from the legs, in plan order, as ``plan_steps`` draws them."""
    split: dict[str, _Building] = {}
    for sid, b in steps.items():
        finals = _finals(b.legs) if b.key.batched else []
        if len(finals) < 2:
            split[sid] = b
            continue
        leads: dict[int, set[AssetId]] = {}  # leg index in the step → the delivered assets it leads to
        for i in reversed(range(len(b.legs))):
            leg = b.legs[i]
            reach = {leg.asset_out} if leg.asset_out in finals else set()
            for j in range(i + 1, len(b.legs)):
                if b.legs[j].asset_in == leg.asset_out:
                    reach |= leads[j]
            leads[i] = reach
        if any(len(r) != 1 for r in leads.values()):
            split[sid] = b  # a leg feeding two outputs: left whole (the executor refuses it by name)
            continue
        for n, final in enumerate(finals):
            part = _Building(b.key, b.level, [leg for i, leg in enumerate(b.legs) if leads[i] == {final}])
            split[sid if n == 0 else f"{sid}/{final.symbol}"] = part
    if len(split) == len(steps):
        return steps
    where = {id(leg): sid for sid, b in split.items() for leg in b.legs}
    for b in split.values():
        b.depends.clear()
    producers: dict[AssetId, list[str]] = {}
    for leg in legs:
        sid = where[id(leg)]
        split[sid].depends.update(p for p in producers.get(leg.asset_in, []) if p != sid)
        producers.setdefault(leg.asset_out, []).append(sid)
    return split


def within_delivered(
    legs: Sequence[PlanLeg], planned_out: Mapping[AssetId, int], delivered: Mapping[AssetId, int]
) -> list[PlanLeg]:
    """A waiting step's legs scaled to what its inputs' producers actually delivered (never above the plan):
    each consumer of an asset spends its planned share of what arrived, min-out scaled alike. A leg that spends
    what an earlier leg of the same step makes (one executor call: a bridged USDT swapped to USDC, then to WETH)
    scales with the step's least-delivered input."""
    made_here = {leg.asset_out for leg in legs}
    ratio = Fraction(1)
    for leg in legs:
        planned = planned_out.get(leg.asset_in)
        got = delivered.get(leg.asset_in)
        if leg.asset_in not in made_here and planned and got is not None and got < planned:
            ratio = min(ratio, Fraction(got, planned))
    out = []
    for leg in legs:
        planned = planned_out.get(leg.asset_in)
        got = delivered.get(leg.asset_in)
        if leg.asset_in in made_here:
            amount_in = leg.amount_in * ratio.numerator // ratio.denominator
        elif planned is None or got is None or got >= planned:
            out.append(leg)
            continue
        else:
            amount_in = leg.amount_in * got // planned
        if amount_in == leg.amount_in:
            out.append(leg)
            continue
        amount_out = leg.amount_out * amount_in // leg.amount_in
        min_out = leg.min_out * amount_in // leg.amount_in
        out.append(PlanLeg(leg.venue, leg.asset_in, leg.asset_out, amount_in, amount_out, min_out))
    return out
