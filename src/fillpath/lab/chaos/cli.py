"""``fillpath chaos``: run seeded scenarios of the whole engine against failing in-process venues, and replay one."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from fillpath.lab.chaos.faults import (
    ALL_FAILPOINTS,
    BRIDGE_WORLD_KINDS,
    CHAIN_KINDS,
    FAILPOINTS,
    REORG_KINDS,
    REPLACE_KINDS,
    TRANSFER_KINDS,
    parse_kinds,
)
from fillpath.lab.chaos.inputs import PlanSpec, WorldSpec, load_plan, load_policy, load_snapshot
from fillpath.lab.chaos.scenario import DIALECTS, WORKLOAD, run_scenario
from fillpath.lab.chaos.sweep import Sweep, replay_command, sweep
from fillpath.model.errors import InvalidInput
from fillpath.rebalance.policy import Policy

app = typer.Typer(
    help="Deterministic simulation: seeded scenarios of the whole engine against venues that fail on purpose.",
    no_args_is_help=True,
)

FaultsOption = Annotated[
    str | None, typer.Option("--faults", help="Comma-separated fault kinds to draw from (default: all).")
]
ChainOption = Annotated[
    bool,
    typer.Option(
        "--chain", help="An EVM chain (eth-tester, the lab's WETH/USDC pool and executor) beside the exchange."
    ),
]
BridgeOption = Annotated[
    bool,
    typer.Option("--bridge", help="A second chain (lab2) and the lab's Across-style bridge between the two "
                 "(implies --chain)."),
]  # fmt: skip
SnapshotOption = Annotated[
    Path | None,
    typer.Option("--snapshot", help="A snapshot file (JSON): its order books and holdings on one exchange become the "
                 "world's exchange and account.", dir_okay=False),
]  # fmt: skip
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", help="A rebalancing policy (TOML, fillpath rebalance's format) every scenario runs "
                 "after its swaps.", dir_okay=False),
]  # fmt: skip
PlanOption = Annotated[
    Path | None,
    typer.Option("--plan", help="A plan (fillpath.plan/1, as `fillpath route --json` writes it): every scenario "
                 "executes its request first, on the world's places.", dir_okay=False),
]  # fmt: skip
WorkloadOption = Annotated[
    int,
    typer.Option("--workload", min=1, max=WORKLOAD, help="The world's generation a seed was found under: 1 replays "
                 "seeds found before ETH transfers, the failpoint closing step and bridge_liquidity as they were found "
                 f"(default: {WORKLOAD}, the current one)."),
]  # fmt: skip
DialectOption = Annotated[
    str | None,
    typer.Option("--dialect", help="Comma-separated exchange APIs a scenario may speak: binance, okx (default: both)."),
]


def parse_dialects(text: str | None) -> tuple[str, ...]:
    if not text:
        return DIALECTS
    out = tuple(d.strip() for d in text.split(","))
    for d in out:
        if d not in DIALECTS:
            raise InvalidInput("--dialect", f"{d!r} is not a dialect the world speaks", f"one of {', '.join(DIALECTS)}")
    return out


@app.command("run")
def run_cmd(
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="How many scenarios (seeds START, START+1, ...).")] = 100,
    start: Annotated[int, typer.Option("--start", min=0, help="The first seed.")] = 0,
    faults: FaultsOption = None,
    dialect: DialectOption = None,
    chain: ChainOption = False,
    bridge: BridgeOption = False,
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=64, help="Processes to run scenarios in.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    snapshot: SnapshotOption = None,
    policy: PolicyOption = None,
    plan: PlanOption = None,
    workload: WorkloadOption = WORKLOAD,
) -> None:
    """Run scenarios; print scenarios, faults by kind, invariant failures and scenarios/s. Exit 1 on a failure."""
    kinds = parse_kinds(faults)
    inputs = user_inputs(snapshot, policy, chain=chain or bridge, plan=plan, bridge=bridge)
    result = sweep(range(start, start + seeds), kinds=kinds, dialects=parse_dialects(dialect), jobs=jobs, chain=chain,
                   bridge=bridge, workload=workload, **inputs.sweep_args())  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(summary(result))
    if result.failures:
        raise typer.Exit(1)


@dataclass(frozen=True, slots=True)
class UserInputs:
    spec: WorldSpec | None
    policy: Policy | None
    options: tuple[str, ...]
    plan: PlanSpec | None = None

    def sweep_args(self) -> dict[str, Any]:
        return {"spec": self.spec, "policy": self.policy, "inputs": self.options, "plan": self.plan}


def user_inputs(
    snapshot: Path | None, policy: Path | None, *, chain: bool, plan: Path | None = None, bridge: bool = False
) -> UserInputs:
    """The user's snapshot and policy, checked (``InvalidInput`` naming the field: one line, exit 2)."""
    if policy is not None and not chain:
        raise InvalidInput("--policy", "needs --chain (rebalancing moves funds between the chain and the exchange)",
                           "add --chain")  # fmt: skip
    options = []
    if snapshot is not None:
        options.append(f"--snapshot {shlex.quote(str(snapshot))}")
    if policy is not None:
        options.append(f"--policy {shlex.quote(str(policy))}")
    if plan is not None:
        options.append(f"--plan {shlex.quote(str(plan))}")
    spec = load_snapshot(snapshot) if snapshot is not None else None
    return UserInputs(spec, load_policy(policy, chain=chain) if policy is not None else None, tuple(options),
                      load_plan(plan, chain=chain, bridge=bridge, spec=spec) if plan is not None else None)  # fmt: skip


def summary(s: Sweep) -> str:
    lines = [
        f"{s.scenarios} scenarios in {s.seconds:.1f} s ({s.per_second:.1f}/s, {s.per_second * 3600:,.0f}/hour), "
        f"{s.events:,} journal events; " + ", ".join(f"{n} on {d}" for d, n in sorted(s.per_dialect.items())),
        "",
        f"{'fault':<26}{'drawn':>8}{'fired':>8}{'share':>8}{'hits':>8}",
    ]
    for k in s.kinds:
        if (k in (*CHAIN_KINDS, *TRANSFER_KINDS, *REPLACE_KINDS, *REORG_KINDS) and not s.chain) or (
            k in BRIDGE_WORLD_KINDS and not s.bridge
        ):
            continue  # only a world with the chain (the bridge) draws them
        lines.append(f"{k:<26}{s.drawn[k]:>8}{s.fired[k]:>8}{s.share(k):>8.1%}{s.hits[k]:>8}")
    for p in ALL_FAILPOINTS if s.chain else FAILPOINTS:
        name = f"failpoint:{p}"
        lines.append(f"{name:<26}{s.drawn[name]:>8}{s.fired[name]:>8}{s.share(name):>8.1%}")
    lines.append("")
    if not s.failures:
        lines.append("invariant failures: none")
        return "\n".join(lines)
    lines.append("invariant failures: " + ", ".join(f"{k} {n}" for k, n in sorted(s.broken.items())))
    for o in s.failures[:20]:
        lines.append(f"  seed {o.seed}: {o.broken[0]}")
        replay = replay_command(o.seed, s.kinds, s.dialects, chain=s.chain, inputs=s.inputs, bridge=s.bridge,
                                workload=s.workload)  # fmt: skip
        lines.append(f"    replay: {replay}")
    if len(s.failures) > 20:
        lines.append(f"  … {len(s.failures) - 20} more (--json lists every one)")
    return "\n".join(lines)


@app.command("replay")
def replay_cmd(
    seed: Annotated[int, typer.Argument(min=0, help="The scenario's seed.")],
    faults: FaultsOption = None,
    dialect: DialectOption = None,
    chain: ChainOption = False,
    bridge: BridgeOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scenario as JSON.")] = False,
    snapshot: SnapshotOption = None,
    policy: PolicyOption = None,
    plan: PlanOption = None,
    workload: WorkloadOption = WORKLOAD,
) -> None:
    """Run one scenario again: its timeline, its journal hash and the first broken invariant. Exit 1 if broken."""
    inputs = user_inputs(snapshot, policy, chain=chain or bridge, plan=plan, bridge=bridge)
    o = run_scenario(seed, kinds=parse_kinds(faults), dialects=parse_dialects(dialect), chain=chain,
                     policy=inputs.policy, spec=inputs.spec, bridge=bridge, plan=inputs.plan,
                     workload=workload)  # fmt: skip
    if as_json:
        typer.echo(json.dumps({
            "seed": o.seed, "dialect": o.dialect, "journal_hash": o.journal_hash, "faults": o.faults, "fired": o.fired,
            "failpoint": o.failpoint, "crashes": o.crashes, "statuses": list(o.statuses), "events": o.events,
            "broken": [str(b) for b in o.broken], "timeline": [{"ms": t, "what": w} for t, w in o.timeline],
        }, indent=2))  # fmt: skip
    else:
        for t, what in o.timeline:
            typer.echo(f"{t / 1000:>10.3f} s  {what}")
        typer.echo("")
        typer.echo(f"seed {o.seed}: {len(o.statuses)} swaps ({', '.join(o.statuses)}), {o.crashes} crash(es), "
                   f"{o.events} journal events")  # fmt: skip
        typer.echo(f"journal sha256 {o.journal_hash}")
        typer.echo(f"first broken invariant: {o.broken[0]}" if o.broken else "invariants: all hold")
    if o.broken:
        raise typer.Exit(1)
