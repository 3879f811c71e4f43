"""Many scenarios: run seeds in turn, count what they drew, what fired and what broke, and time them."""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fillpath.lab.chaos.faults import ALL, ALL_FAILPOINTS, Fault
from fillpath.lab.chaos.inputs import PlanSpec, WorldSpec
from fillpath.lab.chaos.scenario import DIALECTS, WORKLOAD, Outcome, run_scenario
from fillpath.lab.chaos.world import Tamper
from fillpath.rebalance.policy import Policy


def replay_command(
    seed: int,
    kinds: Sequence[Fault] = ALL,
    dialects: Sequence[str] = DIALECTS,
    *,
    chain: bool = False,
    inputs: Sequence[str] = (),
    bridge: bool = False,
    workload: int = WORKLOAD,
) -> str:
    """What reproduces one scenario (the fault kinds, dialects and the chain matter: the draws depend on them;
    ``inputs``: the user's ``--snapshot F`` / ``--policy P`` options)."""
    extra = " --bridge" if bridge else " --chain" if chain else ""
    extra += "".join(f" {i}" for i in inputs)
    extra += "" if tuple(kinds) == ALL else f" --faults {','.join(kinds)}"
    extra += "" if tuple(dialects) == DIALECTS else f" --dialect {','.join(dialects)}"
    extra += "" if workload == WORKLOAD else f" --workload {workload}"
    return f"fillpath chaos replay {seed}{extra}"


@dataclass
class Sweep:
    kinds: tuple[Fault, ...] = ALL
    dialects: tuple[str, ...] = DIALECTS
    chain: bool = False
    inputs: tuple[str, ...] = ()
    bridge: bool = False
    """The user's inputs as options (``--snapshot F``, ``--policy P``): part of every replay command."""
    workload: int = WORKLOAD
    scenarios: int = 0
    seconds: float = 0.0
    drawn: Counter[str] = field(default_factory=Counter)
    """Scenarios that drew each kind (or ``failpoint:NAME``: the crash's place)."""
    fired: Counter[str] = field(default_factory=Counter)
    """Scenarios in which each kind (or ``failpoint:NAME``) actually struck."""
    hits: Counter[str] = field(default_factory=Counter)
    """Times each kind struck, over all scenarios."""
    failures: list[Outcome] = field(default_factory=list)
    broken: Counter[str] = field(default_factory=Counter)
    events: int = 0
    per_dialect: Counter[str] = field(default_factory=Counter)

    def add(self, o: Outcome) -> None:
        self.scenarios += 1
        self.per_dialect[o.dialect] += 1
        self.events += o.events
        self.drawn.update(o.faults.keys())
        if o.failpoint is not None:
            self.drawn[f"failpoint:{o.failpoint}"] += 1
        self.fired.update(k for k, n in o.fired.items() if n)
        self.hits.update(o.fired)
        if o.broken:
            self.failures.append(o)
            self.broken.update({b.invariant for b in o.broken})

    @property
    def per_second(self) -> float:
        return self.scenarios / self.seconds if self.seconds else 0.0

    def share(self, name: str) -> float:
        return self.fired[name] / self.scenarios if self.scenarios else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "scenarios": self.scenarios,
            "seconds": round(self.seconds, 3),
            "scenarios_per_second": round(self.per_second, 3),
            "journal_events": self.events,
            "dialects": dict(sorted(self.per_dialect.items())),
            "faults": {
                str(k): {"drawn": self.drawn[k], "fired": self.fired[k], "hits": self.hits[k]} for k in self.kinds
            },
            "chain": self.chain,
            "bridge": self.bridge,
            "failpoints": {p: self.fired[f"failpoint:{p}"] for p in ALL_FAILPOINTS},
            "failpoints_drawn": {p: self.drawn[f"failpoint:{p}"] for p in ALL_FAILPOINTS},
            "invariant_failures": dict(sorted(self.broken.items())),
            "failing_seeds": [
                {
                    "seed": o.seed,
                    "first": str(o.broken[0]),
                    "replay": replay_command(
                        o.seed,
                        self.kinds,
                        self.dialects,
                        chain=self.chain,
                        inputs=self.inputs,
                        bridge=self.bridge,
                        workload=self.workload,
                    ),
                }
                for o in self.failures
            ],
        }


def sweep(
    seeds: Iterable[int],
    *,
    kinds: Sequence[Fault] = ALL,
    dialects: Sequence[str] = DIALECTS,
    tamper: Tamper | None = None,
    workdir: Path | None = None,
    stop_at_first: bool = False,
    jobs: int = 1,
    progress: Callable[[Outcome], None] | None = None,
    chain: bool = False,
    policy: Policy | None = None,
    spec: WorldSpec | None = None,
    inputs: Sequence[str] = (),
    bridge: bool = False,
    plan: PlanSpec | None = None,
    workload: int = WORKLOAD,
) -> Sweep:
    """Run ``seeds`` and gather them. ``jobs`` > 1: in that many processes (each seed is its own world, so the
    outcomes are the same as in one process; they are gathered in seed order)."""
    out = Sweep(tuple(kinds), tuple(dialects), chain or bridge, tuple(inputs), bridge=bridge, workload=workload)
    t = time.perf_counter()
    run = functools.partial(run_scenario, kinds=kinds, dialects=dialects, tamper=tamper, workdir=workdir, chain=chain,
                            policy=policy, spec=spec, bridge=bridge, plan=plan, workload=workload)  # fmt: skip
    if jobs > 1:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            outcomes: Iterable[Outcome] = pool.map(run, seeds, chunksize=4)
            for o in outcomes:
                out.add(o)
                if progress is not None:
                    progress(o)
    else:
        for seed in seeds:
            o = run(seed)
            out.add(o)
            if progress is not None:
                progress(o)
            if stop_at_first and o.broken:
                break
    out.seconds = time.perf_counter() - t
    return out
