"""One scenario's world: the engine's real parts over in-process venues, on virtual time.

The world is what a process would be: a journal (SQLite in a scratch directory), an exchange connector through the
Binance dialect (``cex/connector.py``) to the in-process matching engine (``exchange.py``), the order driver, the
guards, venue health, the snapshot collector, the engine (``execution/engine.py``), recovery and the reconciler.
A crash at a failpoint (``Wiring.crash``) kills that process: its objects are dropped, the journal is reopened
from disk, and a new process recovers, reconciles and goes on. The venue outlives every crash.

Tests may hand a ``tamper`` hook that changes the parts a process is built with (``Parts``): that is how the
planted-bug tests break the engine on purpose. Production code has no such switch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.dialect import Dialect
from fillpath.cex.okx.dialect import OkxDialect
from fillpath.cex.order_driver import OrderDriver, ResolvePolicy
from fillpath.cex.ratelimit import RateLimiter
from fillpath.chains.accounts import Signer
from fillpath.chains.balances import ChainBalances
from fillpath.chains.nonces import NonceAllocator
from fillpath.chains.replacer import FeeBumper, ReplacePolicy
from fillpath.chains.tracker import TrackerPolicy, TxTracker
from fillpath.collect.movers import MoverSpec
from fillpath.collect.snapshot import take_snapshot
from fillpath.execution.bridge import BridgeEnd, BridgeRunner
from fillpath.execution.cex_transfers import ChainAccount, DepositRoute, DepositRunner, WithdrawRoute, WithdrawRunner
from fillpath.execution.engine import Engine, HealthWatch, Wiring
from fillpath.execution.evm import EvmVenue
from fillpath.execution.guards import Guards
from fillpath.execution.health import Observation, ObservationKind
from fillpath.execution.health_feed import warm_start
from fillpath.execution.killswitch import KillSwitch
from fillpath.execution.recovery import Resolution, TransferResolver, recover
from fillpath.lab.chaos import wallet
from fillpath.lab.chaos.chain import (
    BLOCK_S,
    CHAIN,
    CHAIN2,
    IDLE_BLOCK_S,
    ChainRpc,
    ChainWorld,
    lab_chain,
    trader_signer,
)
from fillpath.lab.chaos.clock import VirtualClock
from fillpath.lab.chaos.exchange import VENUES, InProcessVenue
from fillpath.lab.chaos.faults import Fault, FaultPlan
from fillpath.lab.chaos.inputs import PlanSpec, WorldSpec
from fillpath.lab.chaos.relayer import FILL_DEADLINE_S, ChaosRelayer
from fillpath.lab.chaos.wallet import ChaosWallet
from fillpath.lab.exchange.config import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_MARKETS,
    AccountSpec,
    SimConfig,
)
from fillpath.lab.exchange.okx import shapes as okx_shapes
from fillpath.lab.exchange.orders import OrderUpdate, UserEvent, binance_user_event
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.errors import FillpathError
from fillpath.model.reports import BalanceReport, FillReport, OrderStatusReport
from fillpath.rebalance.policy import Policy
from fillpath.router.snapshot import Snapshot, read_snapshot
from fillpath.state.clock import ClockTracker
from fillpath.state.reconcile_stream import StreamBalances
from fillpath.state.reconciler import ExchangeChecks, PassResult, Reconciler
from fillpath.state.store import Store

T = TypeVar("T")
Recover = Callable[..., Awaitable[list[Resolution]]]
"""``execution.recovery.recover``'s shape (a part, so a planted bug can replace it)."""
LOCATION = "labex"
TRANSFER_WAIT_S = 60.0
"""How long a transfer leg (and recovery) follows a deposit or withdrawal before leaving it in flight (unknown)."""
BRIDGE = "labbridge"
"""The bridge's name in the world's snapshot venues (``labbridge:USDC@lab1>USDC@lab2``)."""
BRIDGED = {"USDC": (500, Decimal(1), Decimal(1_000_000)), "WETH": (500, Decimal("0.0005"), Decimal(1_000))}
"""What the bridge carries between lab1 and lab2: symbol → (fee in ppm, fixed fee, most per transfer), human units."""
REPLACE_AFTER_S = 12.0
"""Workload 4: the engine's tracker replaces a transaction unmined this long (virtual seconds; ``tx_stuck`` holds one
5–40 s, ``tx_underpriced`` 30–120 s)."""
CLOCK_BOUND_NS = 2_000_000_000
"""A venue clock further than this from ours is a ``ClockDivergence``."""


class Crash(BaseException):
    """The engine's process dies at a failpoint (a ``BaseException``: nothing in the engine may catch it)."""

    def __init__(self, point: str) -> None:
        super().__init__(point)
        self.point = point


@dataclass(frozen=True, slots=True)
class Risk:
    """Risk limits wide enough that only the faults refuse trades."""

    max_order_notional: Decimal = Decimal(10**12)
    max_venue_notional: Decimal = Decimal(10**12)
    max_slippage_bps: int = 500


@dataclass
class Parts:
    """One process's objects. ``tamper`` hooks replace some of them (planted bugs)."""

    store: Store
    connector: CcxtConnector
    driver: OrderDriver
    wiring: Wiring
    engine: Engine
    reconciler: Reconciler
    evm: dict[str, EvmVenue] = field(default_factory=dict)
    recover: Recover = recover
    movers: list[TransferResolver] = field(default_factory=list)
    """The deposit and withdrawal runners (a world with the chain): recovery settles their open transfers."""


Tamper = Callable[[Parts], None]


@dataclass
class World:
    seed: int
    rng: random.Random
    clock: VirtualClock
    faults: FaultPlan
    directory: Path
    template: Path
    tamper: Tamper | None = None
    dialect: str = "binance"
    """Which API the venue speaks (``exchange.VENUES``): the connector uses the matching dialect."""
    chain: bool = False
    """An EVM chain (``chain.py``) beside the exchange."""
    side: random.Random | None = None
    """The transfer workload's and faults' own random source (a world with the chain)."""
    policy: Policy | None = None
    """A rebalancing policy the scenario runs after its swaps."""
    spec: WorldSpec | None = None
    """The exchange a user's snapshot describes (its markets and balances), instead of the default one."""
    plan: PlanSpec | None = None
    """A user's plan: every scenario executes its request first."""
    bridge: bool = False
    """A second chain (``lab2``) and the lab bridge between the two (spoke pools, the world's relayer)."""
    coins: random.Random | None = None
    """Which coin the workload's moves between the chain and the exchange carry (a world with the chain)."""
    workload: int = 2
    """The world's generation (``scenario.WORKLOAD``): 1 offers USDC only between the chain and the exchange."""
    order_stream: random.Random | None = None
    """The order updates of the user stream (workload 3): their stream faults strike from this source of their own
    (``orders:SEED``); None: the engine hears orders by REST only, as before."""
    overlap: bool = False
    """Workload 5: the workload's swaps run in pairs, both in flight at once (``scenario._together``)."""
    errors: list[str] = field(default_factory=list)
    """What a stream handler raised that is not a venue's refusal (an invariant failure: ``no_exception``)."""
    _stopped: bool = True
    """No process is alive (before the first start, and from a stop to the next start): a push on the wire then is
    lost with the process that would have heard it."""
    timeline: list[tuple[int, str]] = field(default_factory=list)
    crashes: int = 0
    venue: InProcessVenue = field(init=False)
    stream: StreamBalances = field(init=False)
    parts: Parts = field(init=False)
    _crashed_at: str | None = None
    _background: asyncio.Future[None] | None = None
    evm_chain: ChainWorld | None = field(init=False, default=None)
    wallet: ChaosWallet | None = field(init=False, default=None)
    """The exchange's deposits and withdrawals over the chain (a world with the chain)."""
    _miner: asyncio.Future[None] | None = None
    evm_chain2: ChainWorld | None = field(init=False, default=None)
    """The second chain (a world with the bridge)."""
    relayer: ChaosRelayer | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.chain or self.bridge:
            self.evm_chain = ChainWorld(lab_chain(bridge=self.bridge), self.clock, self.faults, self.log)
        if self.bridge and self.evm_chain is not None:
            self.evm_chain2 = ChainWorld(lab_chain(CHAIN2, bridge=True), self.clock, self.faults, self.log)
            self.relayer = ChaosRelayer({CHAIN: self.evm_chain, CHAIN2: self.evm_chain2}, self.faults, self.clock,
                                        self.log)  # fmt: skip
        self.stream = StreamBalances(LOCATION, clock_ns=self.clock.now_ns)
        self.venue = VENUES[self.dialect](self._sim_config(), self.clock, self.faults, self.log, location=LOCATION,
                                          crash=self.crash)  # fmt: skip
        self.venue.engine.on_user_event = self._pushed
        if self.evm_chain is not None:
            self.wallet = ChaosWallet(self.venue, self.evm_chain, self.faults, self.clock, self.log)
            self.evm_chain.on_block.append(self.wallet.on_block)
        shutil.copyfile(self.template, self.db_path)

    # --- the user stream: the venue's balance pushes, delivered with the scenario's stream faults --------------

    def _pushed(self, api_key: str, event: UserEvent) -> None:
        if isinstance(event, OrderUpdate):
            self._order_pushed(api_key, event)
            return
        f = self.faults
        reports = [BalanceReport(LOCATION, AssetId(b.asset, LOCATION), b.free + b.locked, event.time * 1_000_000)
                   for b in event.lines]  # fmt: skip
        if f.hit(Fault.STREAM_LOST):
            self.log(f"stream: push of {', '.join(b.asset for b in event.lines)} lost")
            return
        if f.hit(Fault.STREAM_GARBLE):
            r = reports[0]
            reports[0] = dataclasses.replace(r, amount=r.amount + Decimal(1))
            self.log(f"stream: push says {r.asset} {reports[0].amount} (the venue holds {r.amount})")
        delay = f.rng.uniform(0, 2.0) if f.hit(Fault.STREAM_REORDER) else 0.005
        self._deliver(reports, delay)
        if f.hit(Fault.STREAM_DUPLICATE):
            self._deliver(reports, delay + f.rng.uniform(0, 3.0))

    def _deliver(self, reports: list[BalanceReport], delay: float) -> None:
        stream = self.stream  # this process's: a push on the wire when it dies is lost with it
        asyncio.get_running_loop().call_later(delay, lambda: asyncio.ensure_future(stream.on_balances(reports)))

    def _order_pushed(self, api_key: str, event: OrderUpdate) -> None:
        """An order update, spelled as the venue's stream sends it and read by the connector's dialect, for the
        order driver (``OrderDriver.on_stream``, as the service's ``follow_stream`` hands it over): lost, late,
        reordered or twice by the scenario's stream faults, from the order stream's own random source."""
        rng, parts = self.order_stream, getattr(self, "parts", None)
        if rng is None or parts is None or self._stopped:
            return
        order = event.order
        if self.dialect == "okx":
            engine = self.venue.engine
            trades = engine.order_trades(api_key, order.order_id)
            wire = okx_shapes.order_push(order, engine.markets[order.symbol], trades, event.trade, event.time)
        else:
            wire = binance_user_event(event)
        update = parts.connector.dialect.stream_order(wire, LOCATION)
        if update is None:
            return
        what = f"{order.client_order_id} {event.exec_type}"
        if self.faults.hit_from(Fault.STREAM_LOST, rng):
            self.log(f"stream: order update {what} lost")
            return
        delay = rng.uniform(0, 2.0) if self.faults.hit_from(Fault.STREAM_REORDER, rng) else 0.005
        report, fill = update
        self._deliver_order(parts, report, fill, delay)
        if self.faults.hit_from(Fault.STREAM_DUPLICATE, rng):
            self.log(f"stream: order update {what} twice")
            self._deliver_order(parts, report, fill, delay + rng.uniform(0, 3.0))

    def _deliver_order(self, parts: Parts, report: OrderStatusReport, fill: FillReport | None, delay: float) -> None:
        async def hear() -> None:
            if self._stopped or self.parts is not parts:  # its process died with the push on the wire
                return
            try:
                await parts.driver.on_stream(report, fill)
            except FillpathError as exc:  # a venue's refusal while asking REST: the next poll asks again
                self.log(f"stream: order update of {report.client_order_id}: {type(exc).__name__}")
            except (Exception, Crash) as exc:  # a crash belongs to the engine's steps, not to a stream handler
                self.errors.append(f"order stream: {type(exc).__name__}: {exc}")
                self.log(f"stream: order update of {report.client_order_id} raised {type(exc).__name__}: {exc}")

        asyncio.get_running_loop().call_later(delay, lambda: asyncio.ensure_future(hear()))

    @property
    def db_path(self) -> Path:
        return self.directory / "journal.db"

    def log(self, text: str) -> None:
        self.timeline.append((self.clock.elapsed_ns // 1_000_000, text))

    def _sim_config(self) -> SimConfig:
        if self.spec is not None:
            return SimConfig(self.spec.markets, (AccountSpec(DEFAULT_API_KEY, DEFAULT_API_SECRET, self.spec.balances),),
                             seed=self.seed, walk_interval=0.0, depth_interval=0.0)  # fmt: skip
        balances = {
            "ETH": Decimal(self.rng.randint(1, 400)),
            "BTC": Decimal(self.rng.randint(0, 20)),
            "USDT": Decimal(self.rng.randint(0, 2_000_000)),
            "USDC": Decimal(self.rng.randint(0, 500_000)),
        }
        if self.plan is not None and self.plan.sell.endswith(f"@{LOCATION}"):  # the account holds what it sells
            symbol = self.plan.sell.partition("@")[0]
            need = Decimal(self.plan.amount).scaleb(-self.plan.decimals())
            balances[symbol] = max(balances.get(symbol, Decimal(0)), need)
        # thin books (at most 30 levels a side): big sales walk them, IOC remainders expire, and a snapshot is cheap
        markets = tuple(dataclasses.replace(m, levels=min(m.levels, 30)) for m in DEFAULT_MARKETS)
        return SimConfig(markets, (AccountSpec(DEFAULT_API_KEY, DEFAULT_API_SECRET, balances),), seed=self.seed,
                         walk_interval=0.0, depth_interval=0.0)  # fmt: skip

    # --- a process --------------------------------------------------------------------------------------

    def crash(self, point: str) -> None:
        if point == self.faults.failpoint and self._crashed_at is None:
            self._crashed_at = point
            self.faults.note(Fault.CRASH)
            self.faults.note(f"failpoint:{point}")
            self.log(f"engine: CRASH at failpoint {point!r}")
            raise Crash(point)

    async def start(self) -> Parts:
        """A new process on the journal: store, connector, driver, engine, reconciler."""
        clock = self.clock
        store = Store.open(f"sqlite:///{self.db_path}", sqlite_synchronous="NORMAL", clock_ns=clock.now_ns,
                           clock=ClockTracker(CLOCK_BOUND_NS))  # fmt: skip
        dialect: Dialect = OkxDialect() if self.dialect == "okx" else BinanceDialect()
        limiter = RateLimiter(dialect.rules, clock=clock.seconds)
        conn = CcxtConnector(self.venue, location=LOCATION, dialect=dialect, limiter=limiter, journal=store,
                             clock_ns=clock.now_ns)  # fmt: skip
        await self.patiently("load markets", conn.load_markets)
        driver = OrderDriver(conn, store, policy=ResolvePolicy(), clock_ns=clock.now_ns)

        def halted() -> frozenset[str]:
            return frozenset(f.venue for f in store.projections().venue_flags.values() if f.halted)

        def balance(asset: AssetId) -> int | None:
            held = store.balance(asset)
            if held is None:
                return None
            units = held if isinstance(held, int) else int(held.scaleb(18).to_integral_value(rounding="ROUND_FLOOR"))
            return units - _units(store.promised(asset))

        guards = Guards(KillSwitch(self.directory / "halt"), Risk(), lambda v: store.venue_flag(v).halted, balance)
        book, feed = warm_start(store.events(), store.projections().venue_flags.values(), clock.now_ns())
        health = HealthWatch(book, feed, store.last_seq)

        def throttled(venue: str, detail: str) -> None:
            changes = book.observe(venue, Observation(ObservationKind.RATE_LIMITED, detail=detail), clock.now_ns())
            if changes:
                store.append_many(changes)

        conn.on_throttled = throttled
        rpcs: dict[str, ChainRpc] = {}
        evm: dict[str, EvmVenue] = {}
        holders: dict[str, str] = {}
        executors: dict[str, str] = {}
        sources: list[ChainBalances] = []
        chain_reads = []
        for world in self.chains:
            lab, loc = world.lab, world.lab.location
            rpc = ChainRpc(world)
            signer = trader_signer()
            executor = lab.deployment.address("FillpathExecutor")
            rpcs[loc], holders[loc], executors[loc] = rpc, lab.trader, executor
            evm[loc] = EvmVenue(loc, lab.chain_id, rpc, signer, executor,
                                NonceAllocator(rpc, loc, signer.address, store), self._tracker(rpc, store, signer),
                                AssetId("ETH", loc), crash=self.crash, final_timeout_s=120.0)  # fmt: skip
            sources.append(ChainBalances(rpc, lab.source, confirmations=1, clock_ns=clock.now_ns))
            chain_reads.append((rpc, lab.source))
        movers: list[TransferResolver] = []
        specs: list[MoverSpec] = []
        if self.evm_chain is not None and self.wallet is not None:
            movers, specs = self._movers(store, rpcs[CHAIN], evm[CHAIN])
        if self.relayer is not None:
            bridges, bridge_specs = self._bridges(store, rpcs, evm)
            movers, specs = [*movers, *bridges], [*specs, *bridge_specs]

        async def snapshot() -> Snapshot:
            taken = datetime.fromtimestamp(clock.now_ns() // 10**9, UTC)
            return read_snapshot(await take_snapshot(chain_reads, exchanges=[conn], taken_at=taken, movers=specs))

        wiring = Wiring(store=store, guards=guards, snapshot=snapshot, rpcs=rpcs, holders=holders,
                        executors=executors, evm=evm, drivers={LOCATION: driver}, halted=halted, health=health,
                        crash=self.crash, clock_ns=clock.now_ns, timer=clock.seconds,
                        extra_runners=movers)  # type: ignore[arg-type]  # fmt: skip
        self.stream = StreamBalances(LOCATION, clock_ns=clock.now_ns)  # a new process listens afresh
        checks = {LOCATION: ExchangeChecks(conn, lambda journal: OrderDriver(conn, journal, clock_ns=clock.now_ns),
                                           self.stream)}  # fmt: skip
        reconciler = Reconciler(store, [conn, *sources], exchanges=checks, clock_ns=clock.now_ns)
        parts = Parts(store, conn, driver, wiring, Engine(wiring), reconciler, evm, movers=movers)
        if self.tamper is not None:
            self.tamper(parts)
        self.parts = parts
        self._stopped = False
        return parts

    def _tracker(self, rpc: ChainRpc, store: Store, signer: Signer) -> TxTracker:
        """The engine's tracker on one chain. From workload 4 it replaces (fee-bumps) a transaction unmined for
        ``REPLACE_AFTER_S``, as ``fillpath run`` does after ``replace_after_s``; a world that draws ``reorg_lost``
        follows 2 confirmations (with 1, a transaction is final in the block a lost reorg takes away: lost by
        configuration, not by the engine)."""
        confirmations = 2 if self.faults.on(Fault.REORG_LOST) else 1
        if self.workload < 4:
            return TxTracker(rpc, rpc.location, store, TrackerPolicy(confirmations=confirmations),
                             clock=self.clock.seconds)  # fmt: skip
        policy = ReplacePolicy(REPLACE_AFTER_S)
        bumper = FeeBumper(rpc, signer, rpc.world.lab.chain_id, policy)
        return TxTracker(rpc, rpc.location, store, policy.tracker_policy(confirmations), replacer=bumper,
                         clock=self.clock.seconds, crash=self.crash)  # fmt: skip

    def _movers(self, store: Store, rpc: ChainRpc, venue: EvmVenue) -> tuple[list[TransferResolver], list[MoverSpec]]:
        """Each of the exchange's coins (``wallet.COINS``: USDC, and ETH, the chain's native coin) between the chain
        and the exchange account: a deposit (chain → exchange) and a withdrawal, each a snapshot venue the router may
        use, and the runners the engine runs them with (``execution/cex_transfers.py``)."""
        assert self.evm_chain is not None and self.wallet is not None
        lab, clock = self.evm_chain.lab, self.clock
        deposits: dict[str, DepositRoute] = {}
        withdrawals: dict[str, WithdrawRoute] = {}
        specs: list[MoverSpec] = []
        for coin in wallet.COINS.values():
            if self.workload < 2 and coin.symbol != wallet.COIN:
                continue
            token = lab.deployment.address(coin.token) if coin.token is not None else None
            on_chain, on_exchange = f"{coin.symbol}@{CHAIN}", f"{coin.symbol}@{LOCATION}"
            deposit = f"{LOCATION}:deposit:{on_chain}>{on_exchange}"
            withdraw = f"{LOCATION}:withdraw:{on_exchange}>{on_chain}"
            deposits[deposit] = DepositRoute(LOCATION, coin.symbol, wallet.NETWORK, token, coin.decimals)
            withdrawals[withdraw] = WithdrawRoute(coin.symbol, wallet.NETWORK, CHAIN, token, coin.fee, coin.minimum,
                                                  coin.decimals)  # fmt: skip
            gas = 65_000 if token is not None else 21_000
            specs += [
                MoverSpec("transfer", deposit, on_chain, on_exchange, 0, Decimal(0), 30, Decimal(10**9), gas),
                MoverSpec("transfer", withdraw, on_exchange, on_chain, 0, coin.fee, 30, Decimal(10**9), 0),
            ]
        by_address = {t.address.lower(): AssetId(t.symbol, CHAIN) for t in lab.source.tokens}
        runners: list[TransferResolver] = [
            DepositRunner(CHAIN, store, venue, {LOCATION: self.wallet}, deposits, by_address, TRANSFER_WAIT_S, 1.0,
                          clock_ns=clock.now_ns, crash=self.crash, timer=clock.seconds),
            WithdrawRunner(LOCATION, store, self.wallet, withdrawals, {CHAIN: ChainAccount(rpc, lab.trader)},
                           TRANSFER_WAIT_S, 1.0, clock_ns=clock.now_ns, crash=self.crash, timer=clock.seconds),
        ]  # fmt: skip
        return runners, specs

    @property
    def chains(self) -> list[ChainWorld]:
        """The world's chains: lab1 (``--chain``), and lab2 with the bridge."""
        return [c for c in (self.evm_chain, self.evm_chain2) if c is not None]

    def _bridges(
        self, store: Store, rpcs: dict[str, ChainRpc], evm: dict[str, EvmVenue]
    ) -> tuple[list[TransferResolver], list[MoverSpec]]:
        """The lab bridge between lab1 and lab2 (``BRIDGED``): a ``bridge`` venue each way per symbol, and a
        ``BridgeRunner`` per origin chain (``execution/bridge.py``), as ``app.mover_runners`` builds them."""
        clock = self.clock
        ends = {c.lab.location: BridgeEnd(c.lab.location, c.lab.chain_id, rpcs[c.lab.location],
                                          c.lab.deployment.address("LabSpokePool"), c.lab.trader)
                for c in self.chains}  # fmt: skip
        runners: list[TransferResolver] = []
        specs: list[MoverSpec] = []
        for origin, target in ((CHAIN, CHAIN2), (CHAIN2, CHAIN)):
            routes = []
            for symbol, (fee_ppm, fee_fixed, most) in BRIDGED.items():
                name = f"{BRIDGE}:{symbol}@{origin}>{symbol}@{target}"
                routes.append(name)
                specs.append(MoverSpec("bridge", name, f"{symbol}@{origin}", f"{symbol}@{target}", fee_ppm, fee_fixed,
                                       10, most, 120_000))  # fmt: skip
            by_address = self.assets_by_address()[origin]
            runners.append(BridgeRunner(origin, store, evm[origin], ends, frozenset(routes), FILL_DEADLINE_S,
                                        TRANSFER_WAIT_S, 1.0, by_address, clock_ns=clock.now_ns, crash=self.crash,
                                        timer=clock.seconds))  # fmt: skip
        return runners, specs

    async def patiently(self, what: str, call: Callable[[], Awaitable[T]], tries: int = 40) -> T:
        """What a process does at start-up against a venue that refuses (5xx, 429, a ban): wait and ask again."""
        for n in range(1, tries + 1):
            try:
                return await call()
            except FillpathError as exc:
                if n == tries:
                    raise
                self.log(f"{what}: {type(exc).__name__}; again in 5 s")
                await asyncio.sleep(5.0)
        raise AssertionError("unreachable")

    def reconcile_every(self, interval_s: float) -> None:
        """The service's continuous reconciliation (``Reconciler.run``) beside the swaps, until :meth:`stop`."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(interval_s)
                await self.reconcile()  # a failed pass waits for the next

        self._background = asyncio.ensure_future(loop())

    def start_miner(self) -> None:
        """The chain's blocks, all the scenario long (the chain outlives crashes): at a ``BLOCK_S`` slot when a
        transaction is ready or a reorg is due, else an empty block every ``IDLE_BLOCK_S`` (py-evm pays ~30 ms a
        block: empty blocks every 2 s were a third of a chain scenario's CPU)."""
        chains = self.chains
        if not chains or self._miner is not None:
            return

        async def loop() -> None:
            last = [self.clock.seconds()] * len(chains)
            while True:
                await asyncio.sleep(BLOCK_S)
                for k, chain in enumerate(chains):
                    if chain.busy() or self.clock.seconds() - last[k] >= IDLE_BLOCK_S:
                        chain.mine()
                        last[k] = self.clock.seconds()

        self._miner = asyncio.ensure_future(loop())

    def stop_miner(self) -> None:
        if self._miner is not None:
            self._miner.cancel()
            self._miner = None

    def assets_by_address(self) -> dict[str, dict[str, AssetId]]:
        return {c.lab.location: {t.address.lower(): AssetId(t.symbol, c.lab.location) for t in c.lab.source.tokens}
                for c in self.chains}  # fmt: skip

    def stop_background(self) -> None:
        if self._background is not None:
            self._background.cancel()
            self._background = None

    def stop(self) -> None:
        """The process ends (a crash or a clean exit): its objects are dropped, the journal stays on disk."""
        self._stopped = True
        self.stop_background()
        self.parts.store.close()

    def end(self) -> None:
        """The scenario is over: the chain's miner stops too."""
        self.stop_miner()
        self.stop()

    async def restart(self) -> list[Resolution]:
        self.crashes += 1
        self.stop()
        await self.start()
        self.log("engine: restarted; recovering")
        return await self.recover()

    async def recover(self) -> list[Resolution]:
        p = self.parts
        try:
            out = await p.recover(p.store, p.evm, {LOCATION: p.driver}, self.assets_by_address(), p.movers,
                                  transfer_wait_s=TRANSFER_WAIT_S)  # fmt: skip
        except FillpathError as exc:  # the venue refused to answer (a ban): recovery runs again later
            self.log(f"recover: stopped: {type(exc).__name__}: {exc}")
            return []
        for r in out:
            self.log(f"recover: {r.intent_id} {r.outcome} ({r.detail})")
        return out

    async def reconcile(self, *, must: bool = False) -> list[PassResult]:
        """One pass; ``must``: until one completes (the ledger's opening needs one)."""
        try:
            results = await self.parts.reconciler.run_once()
        except FillpathError as exc:
            self.log(f"reconcile: stopped: {type(exc).__name__}: {exc}")
            if not must:
                return []
            await asyncio.sleep(5.0)
            return await self.patiently("reconcile", self.parts.reconciler.run_once)
        for res in results:
            for f in getattr(res, "findings", ()):
                if str(f.action) not in ("ok", "open"):
                    self.log(f"reconcile: {f.asset} {f.action} ledger {f.ledger} venue {f.observed}")
        return results

    # --- the world's own view (not the engine's) ----------------------------------------------------------

    def ledger(self, location: str = LOCATION) -> dict[str, Amount]:
        return {a.symbol: v for a, v in self.parts.store.balances().items() if a.location == location}


def _units(amount: Amount | None) -> int:
    if amount is None:
        return 0
    return amount if isinstance(amount, int) else int(amount.scaleb(18).to_integral_value(rounding="ROUND_CEILING"))
