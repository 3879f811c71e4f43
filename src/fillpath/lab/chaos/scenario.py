"""One seeded scenario: draw the world and its faults, run a workload of swaps through the engine (crashing,
restarting and recovering where the faults say), let the world go quiet, settle, and check the invariants.

Everything random comes from one ``random.Random(seed)``; time is virtual (``clock.py``). The same seed and the
same code give the same journal, byte for byte: :attr:`Outcome.journal_hash` is the SHA-256 of its rows.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import os
import random
import shutil
import sqlite3
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from fillpath.collect.snapshot import CEX_DECIMALS
from fillpath.execution.engine import SwapRequest
from fillpath.execution.result import ExecutionResult
from fillpath.lab.chaos import invariants
from fillpath.lab.chaos.chain import CHAIN, CHAIN2
from fillpath.lab.chaos.clock import Stalled, VirtualClock, run
from fillpath.lab.chaos.faults import ALL, Fault, FaultPlan
from fillpath.lab.chaos.inputs import PlanSpec, WorldSpec
from fillpath.lab.chaos.wallet import COIN, COINS
from fillpath.lab.chaos.world import CLOCK_BOUND_NS, LOCATION, Crash, Tamper, World
from fillpath.model.errors import FillpathError
from fillpath.rebalance.plan import excluded_venues, plan_rebalance
from fillpath.rebalance.policy import Policy, Target
from fillpath.rebalance.run import flying
from fillpath.rebalance.run import halted as rebalance_halted
from fillpath.router import RouteRequest
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store

PAIRS = (("ETH", "USDT"), ("USDT", "ETH"), ("BTC", "USDT"), ("USDT", "BTC"), ("ETH", "BTC"), ("BTC", "ETH"),
         ("USDC", "ETH"), ("ETH", "USDC"), ("USDC", "BTC"))  # fmt: skip
"""What the workload sells and buys on the exchange (some routes take two books)."""
CHAIN_PAIRS = (("WETH", "USDC"), ("USDC", "WETH"))
"""What the workload swaps on the chain (the lab's one pool, through the executor)."""
DIALECTS = ("binance", "okx")
"""The APIs a scenario's exchange may speak (``exchange.VENUES``)."""
RECOVER_PASSES = 5
"""After the quiet period: more recovery passes, ``QUIET_S`` apart, while an intent is open (transfers the exchange
holds up to 400 s)."""
QUIET_S = 60.0
"""After the workload: virtual seconds for late matches to land before the world settles."""


WORKLOAD = 5
"""The world's and workload's generation. 5: in a share of scenarios (``OVERLAP_SHARE``, drawn from
``overlap:SEED``) the workload's swaps run two at a time, both in flight at once in one process (``_together``).
4: the engine's tracker replaces (fee-bumps) a transaction unmined for ``world.REPLACE_AFTER_S``, and a chain world
without the bridge draws the fee-bump faults and the lost reorg (``faults.REPLACE_KINDS``, ``REORG_KINDS``) and the
``replace`` failpoint, each from a source of its own. 3: the
engine hears the user stream's order updates too (``World._order_pushed``: ``OrderDriver.on_stream``, as the service
does), with the stream faults drawn from their own source (``orders:SEED``). 2: the exchange's wallet moves ETH too
(the chain world's snapshot offers its deposit and withdrawal; a share of moves and drawn policies are of ETH), a
workload that ended without reaching its drawn failpoint takes one more step that does (``_reach``), and the bridge's
relayer may have limited liquidity (``bridge_liquidity``). 1: as before those (``--workload 1``). Each earlier
generation stays selectable: the seeds found under it replay as they were found (the regression seeds keep their
runs, byte for byte)."""

OVERLAP_SHARE = 0.4
"""Workload 5: the share of scenarios whose swaps run in overlapping pairs."""
TRANSFER_SHARE = 0.3
"""In a world with the chain: the share of the workload's steps that move USDC between the chain and the exchange."""
BRIDGE_SHARE = 0.4
"""In a world with the bridge: the share of the workload's steps that cross it (drawn from ``bridge:SEED``)."""
BRIDGE_MOVES = (
    ("USDC", CHAIN, "USDC", CHAIN2), ("USDC", CHAIN2, "USDC", CHAIN), ("WETH", CHAIN, "WETH", CHAIN2),
    ("WETH", CHAIN2, "WETH", CHAIN), ("WETH", CHAIN, "USDC", CHAIN2), ("USDC", CHAIN2, "WETH", CHAIN),
)  # fmt: skip
"""What a bridge step asks the engine for (the router finds the path: the bridge alone, or a pool and the bridge)."""
REBALANCE_SHARE = 0.4
"""In a world with the chain: the share of scenarios that end their workload with a rebalancing run."""
ETH_SHARE = 0.4
"""In a world with the chain: the share of moves between the chain and the exchange, and of drawn rebalancing
policies, that are of ETH (the chain's native coin, which also pays its gas) rather than USDC; drawn from a source of
its own (``eth:SEED``)."""
MOVE_UNITS = {"USDC": (Decimal(1), Decimal(20)), "ETH": (Decimal("0.0001"), Decimal("0.05"))}
"""Per coin moved: the unit a move's amount is rounded down to, and the least a move is worth asking for."""


def default_policy(side: random.Random, coin: str = COIN) -> Policy:
    """A rebalancing policy drawn for a scenario: a share of the account's ``coin`` (USDC or ETH) on the chain, the
    rest on the exchange, within a band."""
    share = Decimal(side.choice((10, 25, 50, 75, 90)))
    band = Decimal(side.choice((5, 10, 20)))
    targets = (Target(f"{coin}@{CHAIN}", None, share, band), Target(f"{coin}@{LOCATION}", None, 100 - share, band))
    return Policy("chaos", targets, max_cost_bps=Decimal(500), source="chaos")


def exchange_decimals(symbol: str, on_chain: Mapping[str, int]) -> int:
    """The unit of an exchange asset in the world's snapshot: 18, or its decimals on the chain where the chain has a
    token of that symbol (``on_chain``: USDC and USDT 6), as the snapshot collector harmonizes them
    (``collect/snapshot.py``). A sale in the wrong unit asks for 10^12 times the amount and is refused as a capacity
    error after the router's bisection (~5.5 CPU s): USDC was fixed first; USDT (deployed on the lab chain with no pool)
    was refused so in every chain scenario that sold it, 9 of 40 seeds and 64% of the chain world's CPU."""
    return on_chain.get(symbol, CEX_DECIMALS)


def chain_decimals(world: World) -> dict[str, int]:
    """The decimals of every token on the world's chain, by symbol (none without the chain)."""
    if world.evm_chain is None:
        return {}
    return {t.symbol: t.decimals for t in world.evm_chain.lab.source.tokens}


@dataclass(frozen=True, slots=True)
class Outcome:
    seed: int
    journal_hash: str
    faults: dict[str, float]
    fired: dict[str, int]
    failpoint: str | None
    crashes: int
    swaps: int
    statuses: tuple[str, ...]
    broken: tuple[invariants.Broken, ...]
    timeline: tuple[tuple[int, str], ...] = field(repr=False)
    events: int = 0
    dialect: str = "binance"
    chain: bool = False
    bridge: bool = False
    workload: int = WORKLOAD

    @property
    def ok(self) -> bool:
        return not self.broken


def journal_hash(path: Path) -> str:
    """SHA-256 of the journal's rows in seq order (seq, receive time, venue time, venue, kind, payload)."""
    h = hashlib.sha256()
    with sqlite3.connect(path) as db:
        for row in db.execute("SELECT seq, recv_ns, venue_ts, venue, kind, payload FROM journal ORDER BY seq"):
            h.update(repr(row).encode())
    return h.hexdigest()


_TEMPLATE: dict[int, Path] = {}


def template_journal() -> Path:
    """An empty journal at the schema's head, made once per process (in its own scratch directory, removed at exit)
    and copied for each scenario: migrating a new journal costs more than a whole scenario."""
    pid = os.getpid()
    if pid not in _TEMPLATE:
        directory = Path(tempfile.mkdtemp(prefix="fp-chaos-template-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        path = directory / "template.db"
        Store.open(f"sqlite:///{path}", sqlite_synchronous="NORMAL").close()
        _TEMPLATE[pid] = path
    return _TEMPLATE[pid]


def draw_swap(
    rng: random.Random, ledger: dict[str, Decimal | int], pairs: Sequence[tuple[str, str]] = PAIRS
) -> tuple[str, str, Decimal] | None:
    """A sale of a random share of something the account holds, for something else on the exchange."""
    options = [(s, b) for s, b in pairs if Decimal(ledger.get(s, 0)) > 0]
    if not options:
        return None
    sell, buy = rng.choice(options)
    share = Decimal(rng.choice((1, 2, 5, 10, 25, 50, 90))) / 100
    amount = (Decimal(ledger[sell]) * share).quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
    return (sell, buy, amount) if amount > 0 else None


async def _workload(world: World, swaps: int) -> list[str]:
    rng = world.rng
    statuses: list[str] = []
    parts = await world.start()
    await world.reconcile(must=True)  # opens the ledger from the venue (the account's balances at the start)
    interval = rng.choice((2.0, 5.0, 15.0))
    world.reconcile_every(interval)
    world.start_miner()
    if world.plan is not None:  # the user's plan first: its request, routed on the world's venues
        p = world.plan
        eid = f"x{world.seed % 10**6:06d}p0"
        world.log(f"plan {eid}: {Decimal(p.amount).scaleb(-p.decimals())} {p.sell} for {p.buy} ({p.source})")
        req = SwapRequest(RouteRequest(p.sell, p.amount, p.buy, max_hops=p.max_hops), sell_decimals=p.decimals())
        statuses.append(await _run(world, req, eid))
        parts = world.parts
    pending: list[tuple[SwapRequest, str]] = []  # a swap waiting for its partner (an overlapping pair)
    for n in range(swaps):
        if world.bridge and world.faults.bridge_rng.random() < BRIDGE_SHARE:
            statuses.append(await _bridge_funds(world, n))
            parts = world.parts
            continue
        if world.side is not None and world.side.random() < TRANSFER_SHARE:
            statuses.append(await _move_funds(world, n))
            parts = world.parts
            continue
        on_chain = world.chain and rng.random() < 0.6
        if on_chain:  # base units: the chain's ledger is in each token's own units
            units_drawn = draw_swap(rng, world.ledger(CHAIN), CHAIN_PAIRS)
            if units_drawn is None:
                break
            sell, buy, raw_units = units_drawn
            units, amount, where = int(raw_units), raw_units, CHAIN
        else:
            drawn = draw_swap(rng, world.ledger(), world.spec.pairs if world.spec is not None else PAIRS)
            if drawn is None:
                break
            sell, buy, amount = drawn
            units, where = int(amount.scaleb(exchange_decimals(sell, chain_decimals(world)))), LOCATION
        if world.faults.hit(Fault.MARKET_MOVE):
            steps = rng.randint(1, 40)
            world.venue.engine.walk(steps)
            world.log(f"market: books walk {steps} steps")
        if units <= 0:
            continue
        req = SwapRequest(RouteRequest(f"{sell}@{where}", units, f"{buy}@{where}", max_hops=2))
        eid = f"x{world.seed % 10**6:06d}s{n}"
        world.log(f"swap {eid}: sell {amount} {sell}@{where} for {buy}")
        if world.overlap:  # two swaps in flight at once: this one waits for the next, then both run together
            pending.append((req, eid))
            if len(pending) == 2 or n == swaps - 1:
                statuses += await _together(world, pending, interval)
                pending = []
                parts = world.parts
                await asyncio.sleep(rng.uniform(0, 3))
            continue
        try:
            result = await parts.engine.run(req, dry_run=False, execution_id=eid)
            statuses.append(result.status)
            _log_result(world, eid, result)
        except Crash:
            statuses.append("crashed")
            await world.restart()  # the process died (its reconciler with it); a new one recovers
            parts = world.parts
            await world.reconcile()
            world.reconcile_every(interval)
        except FillpathError as exc:
            statuses.append("refused")
            world.log(f"swap {eid}: refused: {type(exc).__name__}: {str(exc)[:160]}")
        await asyncio.sleep(rng.uniform(0, 3))
    if pending:  # the workload ended (nothing left to sell) with one swap drawn: it runs alone
        statuses += await _together(world, pending, interval)
    return statuses


async def _together(world: World, swaps: list[tuple[SwapRequest, str]], interval: float) -> list[str]:
    """Swaps in flight at once in one process (workload 5: the engine shares its journal, guards, nonces and order
    driver between them). A crash in one is the process's death: the others stop where they are (cancelled, as a
    killed process runs nothing more), and a new process recovers every intent of theirs."""
    parts = world.parts
    tasks = [asyncio.ensure_future(parts.engine.run(req, dry_run=False, execution_id=eid)) for req, eid in swaps]
    if len(swaps) > 1:
        world.log("swaps " + " and ".join(eid for _, eid in swaps) + " in flight together")
    waiting = set(tasks)
    crashed = False
    while waiting and not crashed:
        _, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_EXCEPTION)
        crashed = any(t.done() and not t.cancelled() and isinstance(t.exception(), Crash) for t in tasks)
    for t in waiting:
        t.cancel()
    for t in waiting:
        with contextlib.suppress(asyncio.CancelledError, Exception, Crash):
            await t
    statuses: list[str] = []
    for t, (_, eid) in zip(tasks, swaps, strict=True):
        if t.cancelled():
            statuses.append("crashed")
            world.log(f"swap {eid}: stopped with its process")
            continue
        exc = t.exception()
        if isinstance(exc, Crash):
            statuses.append("crashed")
        elif isinstance(exc, FillpathError):
            statuses.append("refused")
            world.log(f"swap {eid}: refused: {type(exc).__name__}: {str(exc)[:160]}")
        elif exc is not None:
            raise exc
        else:
            result = t.result()
            statuses.append(result.status)
            _log_result(world, eid, result)
    if crashed:
        await world.restart()  # the process died (its reconciler with it); a new one recovers
        await world.reconcile()
        world.reconcile_every(interval)
    return statuses


def _log_result(world: World, eid: str, result: ExecutionResult, reason_chars: int | None = None) -> None:
    """The timeline's line for a finished execution: its status and each leg's."""
    world.log(f"swap {eid}: {result.status}; " + "; ".join(
        f"{leg.venue.split(':')[-1]} {leg.status}" + (f" ({leg.reason[:reason_chars]})" if leg.reason else "")
        for leg in result.legs))  # fmt: skip


async def _run(world: World, req: SwapRequest, eid: str) -> str:
    """One execution through the engine, as the workload runs it: a crash restarts the process, which recovers."""
    try:
        result = await world.parts.engine.run(req, dry_run=False, execution_id=eid)
        _log_result(world, eid, result, reason_chars=120)
        return result.status
    except Crash:
        await world.restart()
        await world.reconcile()
        return "crashed"
    except FillpathError as exc:
        world.log(f"swap {eid}: refused: {type(exc).__name__}: {str(exc)[:160]}")
        return "refused"


async def _move_funds(world: World, n: int) -> str:
    """USDC or ETH between the chain and the exchange (a deposit or a withdrawal, as the router routes it): the
    direction and the share from the transfer random source, the coin from its own (``eth:SEED``: the chain seeds found
    before ETH moved keep their transfer draws)."""
    side = world.side
    assert side is not None
    out = side.random() < 0.5
    share = side.choice((2, 5, 10, 25, 50))
    coin = "ETH" if world.coins is not None and world.coins.random() < ETH_SHARE else COIN
    return await _move(world, f"x{world.seed % 10**6:06d}m{n}", coin, out, share)


async def _move(world: World, eid: str, coin: str, out: bool, share: int) -> str:
    """``share`` percent of what the ledger holds of ``coin`` on the chain (``out``) or on the exchange, moved to the
    other side."""
    c = COINS[coin]
    there, here = f"{coin}@{CHAIN}", f"{coin}@{LOCATION}"
    held = Decimal(world.ledger(CHAIN if out else LOCATION).get(coin, 0))
    if out:
        held = held.scaleb(-c.decimals)
    quantum, least = MOVE_UNITS[coin]
    amount = (held * Decimal(share) / 100).quantize(quantum, rounding="ROUND_DOWN")
    if amount < least:
        return "skipped"
    source, target = (there, here) if out else (here, there)
    world.log(f"move {eid}: {amount} {source} to {target}")
    req = SwapRequest(RouteRequest(source, int(amount.scaleb(c.decimals)), target, max_hops=2),
                      sell_decimals=c.decimals)  # fmt: skip
    return await _run(world, req, eid)


REACH = {"intent": "exchange", "sent": "exchange", "ack": "exchange", "broadcast": "chain",
         "transfer_intent": "deposit", "transfer_sent": "deposit", "transfer_done": "deposit",
         "withdraw_sent": "withdrawal", "replace": "chain"}  # fmt: skip
"""Per failpoint, the kind of step that passes through it: an exchange order (``intent``, the world's ``sent``,
``ack``), a chain swap (``broadcast``), a deposit (the transfer runners' three), a withdrawal (``withdraw_sent``)."""


async def _reach(world: World, point: str) -> str:
    """The workload's closing step, when it ended without reaching the scenario's failpoint (a crash drawn at
    ``ack`` in a bridge scenario whose steps were all bridge and chain steps, ``withdraw_sent`` in one that withdrew
    nothing): one more step of the kind that passes there (``REACH``), drawn from a source of its own
    (``reach:SEED``). Faults still strike, so it may stop short of the failpoint (a lost reply, a refused sale)."""
    rng = random.Random(f"reach:{world.seed}")
    eid = f"x{world.seed % 10**6:06d}c0"
    kind = REACH[point]
    world.log(f"workload: failpoint {point!r} not reached; one more step ({kind})")
    if kind in ("deposit", "withdrawal"):
        coin = "ETH" if rng.random() < ETH_SHARE else COIN
        return await _move(world, eid, coin, kind == "deposit", rng.choice((10, 25, 50)))
    where = CHAIN if kind == "chain" else LOCATION
    ledger = world.ledger(where)
    drawn = draw_swap(rng, ledger, CHAIN_PAIRS if kind == "chain" else
                      world.spec.pairs if world.spec is not None else PAIRS)  # fmt: skip
    if drawn is None:
        return "skipped"
    sell, buy, amount = drawn
    units = int(amount) if kind == "chain" else int(amount.scaleb(exchange_decimals(sell, chain_decimals(world))))
    if units <= 0:
        return "skipped"
    world.log(f"swap {eid}: sell {amount} {sell}@{where} for {buy}")
    return await _run(world, SwapRequest(RouteRequest(f"{sell}@{where}", units, f"{buy}@{where}", max_hops=2)), eid)


async def _bridge_funds(world: World, n: int) -> str:
    """A cross-chain step through the engine (``BRIDGE_MOVES``, drawn from the bridge's random source): a share of
    what the ledger holds at the source."""
    rng = world.faults.bridge_rng
    sell, source, buy, target = rng.choice(BRIDGE_MOVES)
    held = int(world.ledger(source).get(sell, 0))
    units = held * rng.choice((2, 5, 10, 25, 50)) // 100
    if units <= 0:
        return "skipped"
    decimals = 6 if sell == "USDC" else 18
    eid = f"x{world.seed % 10**6:06d}b{n}"
    world.log(f"bridge {eid}: {Decimal(units).scaleb(-decimals)} {sell}@{source} to {buy}@{target}")
    req = SwapRequest(RouteRequest(f"{sell}@{source}", units, f"{buy}@{target}", max_hops=3), sell_decimals=decimals)
    return await _run(world, req, eid)


async def _rebalance(world: World, policy: Policy) -> str:
    """A rebalancing run (``rebalance/run.py: execute_policy``'s steps): plan on a fresh snapshot with what is in
    flight and halted, then each planned move through the engine."""
    store = world.parts.store
    try:
        snap = await world.parts.wiring.snapshot()
        plan = plan_rebalance(policy, snap, flying(store, snap), rebalance_halted(store))
    except FillpathError as exc:
        world.log(f"rebalance {policy.name}: not planned: {type(exc).__name__}: {str(exc)[:160]}")
        return "refused"
    world.log(f"rebalance {policy.name}: {len(plan.planned)} move(s) planned"
              + "".join(f"; {m.amount} {m.source} → {m.target}" for m in plan.planned))  # fmt: skip
    status = "nothing"
    exclude = excluded_venues(policy, snap, rebalance_halted(store))
    decimals = {str(a.id): a.decimals for a in snap.assets}
    for k, move in enumerate(plan.planned):
        req = SwapRequest(RouteRequest(move.source, move.amount_units, move.target, slippage_bps=policy.slippage_bps,
                                       exclude=exclude), sell_decimals=decimals[move.source])  # fmt: skip
        status = await _run(world, req, f"x{world.seed % 10**6:06d}r{k}")
    return status


async def _scenario(world: World) -> tuple[list[str], list[invariants.Broken]]:
    swaps = world.rng.randint(1, 4)
    statuses = await _workload(world, swaps)
    policy = world.policy
    if policy is None and world.side is not None and world.side.random() < REBALANCE_SHARE:
        eth = world.coins is not None and world.coins.random() < ETH_SHARE
        policy = default_policy(world.side, "ETH" if eth else COIN)
    if policy is not None:
        statuses.append(await _rebalance(world, policy))
    point = world.faults.failpoint
    if world.chain and world.workload >= 2 and point is not None and not world.faults.fired[f"failpoint:{point}"]:
        statuses.append(await _reach(world, point))
    # the world goes quiet: faults stop, late matches land; then recover and settle from venue evidence
    world.stop_background()
    world.faults.rates.clear()
    world.faults.skew_ms = 0
    await asyncio.sleep(QUIET_S)
    world.log("world: quiet; recovering what is open")
    await world.recover()
    for _ in range(RECOVER_PASSES):  # as a service would: recover again while transfers are open (a stuck
        # withdrawal's evidence can come after one pass's window ended: seed 4003 on --chain)
        if not any(i.status is IntentStatus.OPEN for i in world.parts.store.intents().values()):
            break
        await asyncio.sleep(QUIET_S)
        await world.recover()
    world.stop_miner()
    for (_, cid), rec in sorted(world.parts.store.orders().items()):
        if not rec.status.terminal:
            await world.parts.driver.settle(cid)
    store = world.parts.store
    moving = invariants.moving(store, world.wallet, world.relayer)
    broken = list(invariants.check_all(store, world.venue, world.faults, world.ledger(), CLOCK_BOUND_NS, moving,
                                       world.wallet))  # fmt: skip
    for chain in world.chains:
        broken += invariants.chain(store, chain, world.ledger(chain.lab.location), moving)
    if world.chains and (world.wallet is not None or world.relayer is not None):
        broken += invariants.in_flight(store, world.venue, world.chains, world.wallet, world.relayer)
    broken += [invariants.Broken("no_exception", e) for e in world.errors]
    await world.reconcile()  # the last pass, in a quiet world: it must book nothing, and see the stream's lies
    if not broken:
        broken += invariants.no_drift(world.parts.store) + invariants.stream(
            world.parts.store, world.stream, world.venue
        )
    world.end()
    return statuses, _dedupe(broken)


def _dedupe(items: Sequence[invariants.Broken]) -> list[invariants.Broken]:
    seen, out = set(), []
    for b in items:
        if str(b) not in seen:
            seen.add(str(b))
            out.append(b)
    return out


def dialect_of(seed: int, dialects: Sequence[str] = DIALECTS) -> str:
    """The venue's API for ``seed``: drawn apart from the scenario's random source, so adding a dialect left every
    earlier seed's draws as they were."""
    return dialects[0] if len(dialects) == 1 else random.Random(f"dialect:{seed}").choice(list(dialects))


def draw(
    seed: int, kinds: Sequence[Fault] = ALL, *, chain: bool = False, bridge: bool = False, workload: int = WORKLOAD
) -> tuple[random.Random, FaultPlan, random.Random | None, random.Random | None]:
    """Scenario ``seed``'s random sources and its faults, drawn: (the scenario's source, the faults, the transfer
    source, the coin source). Each later kind draws from a source of its own, so an earlier seed keeps its draws."""
    rng = random.Random(seed)
    faults = FaultPlan.draw(rng, kinds, chain=chain or bridge)
    side = coins = None
    if chain or bridge:  # deposits and withdrawals: their own random source (earlier chain seeds keep their draws)
        side = random.Random(f"transfer:{seed}")
        coins = random.Random(f"eth:{seed}") if workload >= 2 else None  # which coin a move is: its own too
        faults.draw_transfers(side, kinds)
        if workload >= 4 and not bridge:  # fee bumps, their races, lost reorgs: sources of their own (earlier draws
            # kept); not with the bridge: its relayer acts on a deposit at one confirmation, a lost reorg under it is
            # a relayer the world does not model yet
            faults.draw_replace(random.Random(f"replace:{seed}"), random.Random(f"reorg:{seed}"), kinds)
    if bridge:  # the bridge: faults and workload from a source of their own (chain seeds keep their draws)
        faults.draw_bridge(random.Random(f"bridge:{seed}"), kinds)
        if workload >= 2:
            faults.draw_liquidity(random.Random(f"liquidity:{seed}"), kinds)
    return rng, faults, side, coins


def run_scenario(
    seed: int,
    *,
    kinds: Sequence[Fault] = ALL,
    dialects: Sequence[str] = DIALECTS,
    tamper: Tamper | None = None,
    workdir: Path | None = None,
    chain: bool = False,
    policy: Policy | None = None,
    spec: WorldSpec | None = None,
    bridge: bool = False,
    plan: PlanSpec | None = None,
    workload: int = WORKLOAD,
) -> Outcome:
    """Run scenario ``seed`` in a scratch directory (under ``workdir`` if given) and check it. ``policy``: a
    rebalancing policy every scenario runs after its swaps (the user's own: ``--policy``); ``spec``: the exchange a
    user's snapshot describes (``--snapshot``: ``inputs.py``)."""
    with tempfile.TemporaryDirectory(prefix=f"fp-chaos-{seed}-", dir=workdir) as tmp:
        directory = Path(tmp)
        template = template_journal()
        chain = chain or bridge
        rng, faults, side, coins = draw(seed, kinds, chain=chain, bridge=bridge, workload=workload)
        drawn = dict(faults.rates)
        clock = VirtualClock()
        dialect = dialect_of(seed, dialects)
        world = World(seed, rng, clock, faults, directory, template, tamper, dialect, chain, side=side, policy=policy,
                      spec=spec, bridge=bridge, plan=plan, coins=coins, workload=workload,
                      order_stream=random.Random(f"orders:{seed}") if workload >= 3 else None,
                      overlap=workload >= 5 and random.Random(f"overlap:{seed}").random() < OVERLAP_SHARE)  # fmt: skip
        world.log(f"venue: {LOCATION} speaks {dialect}" + (f"; chain {CHAIN} (eth-tester)" if chain else "")
                  + (f"; chain {CHAIN2} and the bridge" if bridge else ""))  # fmt: skip
        world.log("faults: " + (", ".join(f"{k} {v:.2f}" for k, v in drawn.items()) or "none")
                  + (f"; crash at {faults.failpoint}" if faults.failpoint else "")
                  + (f"; venue clock +{faults.skew_ms} ms" if faults.skew_ms else "")
                  + "".join(f"; relayer fills at most {v} {k} a relay"
                            for k, v in faults.liquidity.items()))  # fmt: skip
        try:
            statuses, broken = run(_scenario(world), clock)
        except Stalled as exc:
            statuses, broken = ["stalled"], [invariants.Broken("liveness", str(exc))]
            world.log(f"world: {exc}")
            with contextlib.suppress(Exception):
                world.end()
        except Exception as exc:  # the engine itself blew up: that is a finding too
            statuses, broken = ["error"], [invariants.Broken("no_exception", f"{type(exc).__name__}: {exc}")]
            world.log(f"engine: unexpected {type(exc).__name__}: {exc}")
            for frame in traceback.format_tb(exc.__traceback__)[-4:]:
                world.log("    " + frame.strip().replace("\n", " | "))
            with contextlib.suppress(Exception):
                world.end()
        events = sum(1 for _ in sqlite3.connect(world.db_path).execute("SELECT seq FROM journal"))
        return Outcome(seed, journal_hash(world.db_path), {str(k): v for k, v in drawn.items()},
                       dict(faults.fired), faults.failpoint, world.crashes, len(statuses), tuple(statuses),
                       tuple(broken), tuple(world.timeline), events, dialect, chain, bridge, workload)  # fmt: skip
