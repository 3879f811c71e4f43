"""The execution hot path (issue 7): guards + intent commit, decision-to-wire overhead of a 3-leg plan, and plans
per second in a dry run — on a private lab started in a temporary directory.

1. ``Guards.check`` on a 3-leg plan's LegOrders + ``store.append(IntentCreated)`` on SQLite, against a bare
   ``store.append`` of one event on the same store (interleaved pairs).
2. Decision-to-wire: from the decision (``Attempt.commit_and_send``: the guards, every root step staged — nonces,
   signatures —, one journal commit, every request started) to the moment the *last* of its three requests
   (two executor transactions, one exchange order) is handed to its transport. What waits on a venue (heads,
   simulations, gas, fees, the nonce sync) is the cold half before it (``Engine.prepared_roots``), reported apart.
   Venue time is excluded: the transports are in-process stand-ins that answer at once and speak the real
   shapes — an RPC object answering ``eth_call`` (allowance = the exact pull, so no approval; the executor's
   result ABI-encoded), ``eth_estimateGas``, ``eth_feeHistory``, blocks, nonces, receipts; and a ccxt-like
   exchange whose
   ``private_post_order`` returns a Binance FULL reply. A request's reply is held until all three requests are
   out (a venue answers in milliseconds, later than our overhead), so one leg's booking never sits in front of
   another leg's send. Everything else is real: coincurve signing, the Store, guards, intents, tracker, driver.
   The breakdown splits the critical path into journal commits, signing, the stand-ins' own time and the rest.
   Configurations run in turn, run by run (the machine is shared). One extra row gives every RPC read a latency
   (``--rpc-ms``): it shows how many round trips to a node sit in front of a send, which the zero-latency rows hide.
3. ``Engine.run(dry_run=True)`` end to end on the live lab (real anvil, the exchange simulator), and route only
   (``Engine._route`` on a fixed snapshot): time per plan and plans per second.

    python benchmarks/bench_execution.py [--guard-runs 1000] [--wire-runs 300] [--dry-runs 40] [--route-runs 100]
                                         [--lab-dir DATA_DIR_OF_A_RUNNING_LAB]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

from _table import median, pct, table
from fillpath.app import ExecutionParts, execution_parts
from fillpath.app import _guard_balance as guard_balance
from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.order_driver import OrderDriver
from fillpath.cex.ratelimit import LimitKind, RateLimitRule
from fillpath.chains.abi import fn
from fillpath.chains.accounts import Signer, signing_backend
from fillpath.chains.nonces import NonceAllocator
from fillpath.chains.tracker import TrackerPolicy, TxTracker
from fillpath.config import Config
from fillpath.execution.chain_plan import chain_exec_plan
from fillpath.execution.engine import Engine, SwapRequest, Wiring
from fillpath.execution.evm import EvmVenue
from fillpath.execution.result import LegStatus
from fillpath.lab import lab_config
from fillpath.lab.exchange.binance import sim_binance
from fillpath.lab.manager import Lab
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.model.events import BalanceAdjusted, IntentCreated
from fillpath.router import Market, RouteRequest, route
from fillpath.router.plan import Plan
from fillpath.router.snapshot import Snapshot
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.order_book import OrderBook
from fillpath.state.store import Store

SOURCES = (("WETH@lab1", "USDC@lab1"), ("WETH@lab2", "USDC@lab2"), ("ETH@labex", "USDT@labex"))
"""One leg per location: each source sold in one hop (two executor transactions, one exchange order)."""
LEG_AMOUNT = 10**18
UNMETERED = (RateLimitRule(LimitKind.REQUEST_WEIGHT, 60.0, 10**9), RateLimitRule(LimitKind.ORDERS, 10.0, 10**9))
SYNCS = ("FULL", "NORMAL")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


# --- timing of the critical path ----------------------------------------------------------------------------


@dataclass
class Spans:
    """Intervals of named work on the event loop's thread; sums over a window give the critical path's parts."""

    items: list[tuple[str, float, float]] = field(default_factory=list)

    def add(self, kind: str, start: float) -> None:
        self.items.append((kind, start, time.perf_counter()))

    def within(self, start: float, end: float) -> dict[str, tuple[float, int]]:
        out: dict[str, tuple[float, int]] = {}
        for kind, s, e in self.items:
            if s >= start and e <= end:
                total, count = out.get(kind, (0.0, 0))
                out[kind] = (total + e - s, count + 1)
        return out


def time_journal(store: Store, spans: Spans) -> None:
    """Every commit goes through ``append_many`` (``append`` calls it): time each one."""
    inner = store.append_many

    def append_many(events: Any, **kw: Any) -> list[int]:
        t = time.perf_counter()
        try:
            return inner(events, **kw)
        finally:
            spans.add("journal commits", t)

    store.append_many = append_many  # type: ignore[method-assign]


class TimedSigner(Signer):
    """The real signer (coincurve), timed."""

    def __init__(self, account: Any, spans: Spans) -> None:
        super().__init__(account)
        self._spans = spans

    def sign_transaction(self, tx: Mapping[str, Any]) -> Any:
        t = time.perf_counter()
        try:
            return super().sign_transaction(tx)
        finally:
            self._spans.add("signing", t)


@dataclass
class Wire:
    """One run's requests as they are handed to their transports; replies wait until all are out."""

    expected: int
    sent: dict[str, float] = field(default_factory=dict)
    cpu_at_last: float = 0.0
    reads: dict[str, int] = field(default_factory=dict)
    all_out: asyncio.Event = field(default_factory=asyncio.Event)

    def hand_over(self, what: str) -> None:
        self.sent[what] = time.perf_counter()
        if len(self.sent) >= self.expected:
            self.cpu_at_last = time.thread_time()
            self.all_out.set()

    async def reply(self) -> None:
        await asyncio.wait_for(self.all_out.wait(), timeout=10)


# --- the stand-in transports --------------------------------------------------------------------------------


class InstantChain:
    """A JSON-RPC stand-in for one chain: ``request``/``batch`` like :class:`RpcClient`, answers from memory."""

    def __init__(
        self, location: str, executor: str, result: bytes, allowances: Mapping[str, int], spans: Spans, rpc_s: float
    ) -> None:
        self.location = location
        self.rpc_s = rpc_s
        self.executor = executor.lower()
        self.result = "0x" + result.hex()
        self.allowances = {k.lower(): v for k, v in allowances.items()}
        self.spans = spans
        self.wire: Wire | None = None
        self.head = 1_000
        self.mined = 0
        self.txs: dict[str, int | None] = {}  # hash → block number once mined
        self.receipts: dict[str, dict[str, Any]] = {}

    def _block(self, number: int) -> dict[str, Any]:
        return {"number": hex(number), "hash": "0x" + keccak(number.to_bytes(32, "big")).hex(),
                "timestamp": hex(1_767_225_600 + 12 * number), "baseFeePerGas": hex(10**9)}  # fmt: skip

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        if method == "eth_sendRawTransaction":
            await asyncio.sleep(0)
            return await self._send(str(params[0]))
        await asyncio.sleep(self.rpc_s)  # a transport suspends the caller, however fast the answer
        t = time.perf_counter()
        try:
            if self.wire is not None and self.location not in self.wire.sent:
                self.wire.reads[self.location] = self.wire.reads.get(self.location, 0) + 1
            return self._answer(method, list(params))
        finally:
            self.spans.add("stand-in transports", t)

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        await asyncio.sleep(self.rpc_s)
        return [self._answer(m, list(p)) for m, p in calls]

    def _answer(self, method: str, params: list[Any]) -> Any:
        if method == "eth_call":
            to = str(params[0]["to"]).lower()
            return self.result if to == self.executor else "0x" + self.allowances[to].to_bytes(32, "big").hex()
        if method == "eth_estimateGas":
            return hex(300_000)
        if method == "eth_feeHistory":
            return {"oldestBlock": hex(self.head - 9), "baseFeePerGas": [hex(10**9)] * 11,
                    "gasUsedRatio": [0.5] * 10, "reward": [[hex(10**6)]] * 10}  # fmt: skip
        if method == "eth_getBlockByNumber":
            return self._block(self.head if params[0] == "latest" else int(params[0], 16))
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getTransactionCount":
            return hex(self.mined + (len(self.txs) - self.mined if params[1] == "pending" else 0))
        if method == "eth_getTransactionReceipt":
            return self.receipts.get(str(params[0]))
        if method == "eth_getTransactionByHash":
            return {"hash": params[0]} if params[0] in self.txs else None
        raise AssertionError(f"the stand-in does not answer {method}")

    async def _send(self, raw: str) -> str:
        t = time.perf_counter()
        assert self.wire is not None
        self.wire.hand_over(self.location)
        tx_hash = "0x" + keccak(bytes.fromhex(raw[2:])).hex()
        self.txs[tx_hash] = None
        self.spans.add("stand-in transports", t)
        await self.wire.reply()  # the node answers after every request of the run has left
        self.head += 1
        self.mined += 1
        self.txs[tx_hash] = self.head
        block = self._block(self.head)
        self.receipts[tx_hash] = {"transactionHash": tx_hash, "blockNumber": block["number"],
                                  "blockHash": block["hash"], "status": "0x1", "gasUsed": hex(200_000),
                                  "effectiveGasPrice": hex(10**9), "logs": []}  # fmt: skip
        return tx_hash

    async def close(self) -> None:
        return None


class InstantExchange:
    """A ccxt-like exchange: the raw endpoints answer from memory; a new order fills in full (Binance FULL)."""

    def __init__(self, markets: dict[str, Any], spans: Spans) -> None:
        self.enableRateLimit = False
        self.enableLastResponseHeaders = True
        self.apiKey = ""
        self.markets = markets
        self.spans = spans
        self.wire: Wire | None = None
        self.ids = 0

    async def load_markets(self) -> dict[str, Any]:
        return self.markets

    async def public_get_exchangeinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def private_post_order(self, params: dict[str, Any]) -> dict[str, Any]:
        t = time.perf_counter()
        assert self.wire is not None
        self.wire.hand_over("labex")
        self.ids += 1
        qty, price = Decimal(params["quantity"]), Decimal(params["price"])
        now_ms = time.time_ns() // 1_000_000
        reply = {
            "symbol": params["symbol"], "orderId": self.ids, "clientOrderId": params["newClientOrderId"],
            "transactTime": now_ms, "price": params["price"], "origQty": params["quantity"],
            "executedQty": params["quantity"], "cummulativeQuoteQty": str(qty * price), "status": "FILLED",
            "timeInForce": params.get("timeInForce", "GTC"), "type": params["type"], "side": params["side"],
            "fills": [{"price": params["price"], "qty": params["quantity"], "commission": "0",
                       "commissionAsset": "USDT", "tradeId": self.ids}],
        }  # fmt: skip
        self.spans.add("stand-in transports", t)
        await self.wire.reply()
        return reply

    async def close(self) -> None:
        return None


# --- the lab, the snapshot, the plan ------------------------------------------------------------------------


def with_holdings(snap: Snapshot, amount: int) -> Snapshot:
    held = dict(snap.holdings or {})
    held.update({AssetId.parse(sell): amount for sell, _ in SOURCES})
    return replace(snap, holdings=held)


def three_leg_plan(snap: Snapshot) -> Plan:
    """One one-hop plan per source, merged: a leg on lab1, one on lab2, one on labex."""
    market = Market.from_snapshot(snap)
    plans = [route(market, RouteRequest(sell, LEG_AMOUNT, buy, max_hops=1)) for sell, buy in SOURCES]
    legs = tuple(leg for p in plans for leg in p.legs)
    where = sorted(leg.asset_in.location for leg in legs)
    if where != ["lab1", "lab2", "labex"]:
        raise SystemExit(f"expected one leg on each of lab1, lab2, labex; the router gave {where}")
    return replace(
        plans[0], sell=",".join(s for s, _ in SOURCES), buy=",".join(b for _, b in SOURCES),
        amount_in=sum(p.amount_in for p in plans), expected_out=sum(p.expected_out for p in plans),
        min_out=sum(p.min_out for p in plans), gas_cost_out=sum(p.gas_cost_out for p in plans),
        net_out=sum(p.net_out for p in plans), legs=legs, paths=tuple(x for p in plans for x in p.paths),
    )  # fmt: skip


def seed_ledger(store: Store) -> None:
    """Enough on the ledger that the balance guard passes for every run."""
    store.append_many(
        [
            BalanceAdjusted("lab1", AssetId("WETH", "lab1"), 10**30, "deposit"),
            BalanceAdjusted("lab2", AssetId("WETH", "lab2"), 10**30, "deposit"),
            BalanceAdjusted("labex", AssetId("ETH", "labex"), Decimal("1000000"), "deposit"),
        ]
    )


def intent(i: int) -> IntentCreated:
    weth = AssetId("WETH", "lab1")
    return IntentCreated("lab1", f"bench-{i}", "evm.executor", f"0x{i:040x}:{i}:0x{i:064x}", weth, 10**18 + i,
                         AssetId("USDC", "lab1"), 3_000 * 10**6, time.time_ns() + 120 * 10**9)  # fmt: skip


async def open_parts(cfg: Config, store: Store, *, live_guards: bool = True) -> ExecutionParts:
    """The product's dry-run wiring on ``store``. ``live_guards``: a live run's guards, which read this store's ledger
    and venue flags (a dry run's balance guard reads the holdings its snapshot saw instead)."""
    parts = await execution_parts(cfg, store, signers=None)
    if live_guards:
        parts.wiring.guards = replace(parts.wiring.guards, balance=guard_balance(store, {}))
    return parts


# --- 1. guards + intent commit ------------------------------------------------------------------------------


async def bench_guards(cfg: Config, tmp: Path, snap: Snapshot, plan: Plan, n: int) -> list[list[str]]:
    rows: list[list[str]] = []
    for sync in SYNCS:
        with Store.open(f"sqlite:///{tmp}/guards-{sync}.db", sqlite_synchronous=sync) as store:  # type: ignore[arg-type]
            seed_ledger(store)
            parts = await open_parts(cfg, store)
            try:
                engine = Engine(parts.wiring)
                guards = parts.wiring.guards
                legs = engine._leg_orders(snap, plan, time.time_ns() + 120 * 10**9)
                assert len(legs) == 3 and not guards.check(legs, slippage_bps=50, now_ns=time.time_ns())
                alone, both, bare = [], [], []
                for i in range(-50, n):  # the first 50: warm-up
                    t = time.perf_counter()
                    failures = guards.check(legs, slippage_bps=50, now_ns=time.time_ns())
                    t1 = time.perf_counter()
                    assert not failures
                    store.append(intent(2 * i + 10_000_000))
                    t2 = time.perf_counter()
                    store.append(intent(2 * i + 10_000_001))
                    t3 = time.perf_counter()
                    if i >= 0:
                        alone.append(t1 - t)
                        both.append(t2 - t)
                        bare.append(t3 - t2)
            finally:
                await parts.close()
        ref = median(bare)
        rows += [
            [f"guards.check + intent commit (SQLite {sync})", str(n), ms(median(both)), ms(pct(both, 99)),
             f"{median(both) / ref:.2f}"],
            [f"  reference: bare store.append, one event ({sync})", str(n), ms(ref), ms(pct(bare, 99)), "1.00"],
            [f"  guards.check alone (3 LegOrders) ({sync})", str(n), ms(median(alone)), ms(pct(alone, 99)),
             f"{median(alone) / ref:.3f}"],
        ]  # fmt: skip
    return rows


# --- 2. decision to wire ------------------------------------------------------------------------------------


def executor_result(legs: Sequence[Any]) -> bytes:
    """The executor's return value for these legs, ABI-encoded as ``execute`` returns it."""
    outs = [leg.amount_out for leg in legs]
    return encode(list(fn("FillpathExecutor", "execute").outputs), [outs, outs[-1]])


@dataclass
class WireRun:
    total: float
    first: float
    parts: dict[str, tuple[float, int]]
    reads: dict[str, int]
    reference: float
    cpu: float
    prepare: float


class WireRig:
    """One engine on in-process venues and its own store; ``once()`` is one decision-to-wire measurement."""

    def __init__(self, name: str, sync: str, rpc_s: float) -> None:
        self.name, self.sync, self.rpc_s = name, sync, rpc_s
        self.spans = Spans()
        self.runs: list[WireRun] = []
        self.closers: list[Any] = []

    async def setup(self, cfg: Config, tmp: Path, snap: Snapshot, plan: Plan, markets: dict[str, Any]) -> None:
        self.snap, self.plan = snap, plan
        self.venues: dict[str, Any] = {v.id: v for v in venues_from_snapshot(snap)}
        addresses = {a.id: a.address for a in snap.assets}
        executors = {n.location: n.deployment.address("FillpathExecutor") for n in Lab(cfg.data_dir).status()
                     if n.deployment}  # fmt: skip
        chain_legs: dict[str, list[Any]] = {}
        for leg in plan.legs:
            if not isinstance(self.venues[leg.venue], OrderBook):
                chain_legs.setdefault(leg.asset_in.location, []).append(leg)
        signer = TimedSigner(Account.create(), self.spans)
        url = f"sqlite:///{tmp}/wire-{self.name}.db"
        self.store = store = Store.open(url, sqlite_synchronous=self.sync)  # type: ignore[arg-type]
        self.closers.append(store)
        seed_ledger(store)
        parts = await open_parts(cfg, store)
        self.closers.append(parts)
        self.chains: dict[str, InstantChain] = {}
        evm: dict[str, EvmVenue] = {}
        for loc, legs in chain_legs.items():
            xp = chain_exec_plan(legs, self.venues, addresses, recipient=signer.address, deadline=1)
            stub = InstantChain(loc, executors[loc], executor_result(legs), {p.token: p.amount for p in xp.pulls},
                                self.spans, self.rpc_s)  # fmt: skip
            rpc: Any = stub
            self.chains[loc] = stub
            evm[loc] = EvmVenue(
                loc, 31337, rpc, signer, executors[loc], NonceAllocator(rpc, loc, signer.address, store),
                TxTracker(rpc, loc, store, TrackerPolicy(confirmations=1)), AssetId("ETH", loc),
            )  # fmt: skip
        self.exchange = InstantExchange(copy.deepcopy(markets), self.spans)
        conn = CcxtConnector(self.exchange, location="labex", journal=store, dialect=BinanceDialect())
        await conn.load_markets()
        conn.limiter.set_rules(UNMETERED)  # the venue's 100 orders / 10 s would queue the runs
        rpcs: Any = self.chains
        wiring = Wiring(
            store=store, guards=parts.wiring.guards, snapshot=parts.wiring.snapshot, rpcs=rpcs,
            holders=dict.fromkeys(self.chains, signer.address), executors=executors, evm=evm,
            drivers={"labex": OrderDriver(conn, store)}, halted=parts.wiring.halted,
        )  # fmt: skip
        self.engine = Engine(wiring)
        self.req = SwapRequest(RouteRequest(plan.sell, plan.amount_in, plan.buy, max_hops=1))
        time_journal(store, self.spans)

    async def once(self, i: int) -> None:
        wire = Wire(expected=3)
        self.spans.items.clear()
        tp = time.perf_counter()  # the cold half: heads, simulations, gas, fees, order prices (not timed below)
        run, ready = await self.engine.prepared_roots(f"b{self.name}{i + 100}", self.snap, self.plan, self.req,
                                                      self.venues)  # fmt: skip
        prepare = time.perf_counter() - tp
        for stub in self.chains.values():
            stub.wire = wire
        self.exchange.wire = wire
        self.spans.items.clear()
        cpu0 = time.thread_time()
        t0 = time.perf_counter()  # the decision: guards, staging (nonces, signatures), one commit, every send
        await run._drain(run.commit_and_send(ready))
        results = run.ordered()
        bad = [r for r in results if r.status is not LegStatus.DONE]
        if bad or len(wire.sent) != 3:
            raise SystemExit(f"run {i}: not every leg done: {bad} (sent: {sorted(wire.sent)})")
        t_ref = time.perf_counter()
        self.store.append(intent(i + 20_000_000))  # the reference: one bare commit, same store, same moment
        reference = time.perf_counter() - t_ref
        last = max(wire.sent.values())
        if i >= 0:
            self.runs.append(WireRun(last - t0, min(wire.sent.values()) - t0, self.spans.within(t0, last),
                                     dict(wire.reads), reference, wire.cpu_at_last - cpu0, prepare))  # fmt: skip

    async def close(self) -> None:
        for c in reversed(self.closers):
            if isinstance(c, Store):
                c.close()
            else:
                await c.close()


async def bench_wire(
    cfg: Config, tmp: Path, snap: Snapshot, plan: Plan, markets: dict[str, Any], n: int, rpc_ms: float
) -> list[WireRig]:
    """Every configuration in turn, run by run, so each sees the same machine (it is shared and noisy)."""
    rigs = [WireRig(sync, sync, 0.0) for sync in SYNCS]
    if rpc_ms > 0:
        rigs.append(WireRig(f"FULL-rpc{rpc_ms:g}ms", "FULL", rpc_ms / 1000))
    try:
        for rig in rigs:
            await rig.setup(cfg, tmp, snap, plan, markets)
        for i in range(-30, n):  # the first 30: warm-up (imports, caches, the nonce sync)
            for rig in rigs:
                await rig.once(i)
    finally:
        for rig in rigs:
            await rig.close()
    return rigs


def wire_rows(rig: WireRig) -> list[list[str]]:
    runs = rig.runs
    n = str(len(runs))
    totals = [r.total for r in runs]
    ref = median([r.reference for r in runs])
    what = f"SQLite {rig.sync}" + (f", {rig.rpc_s * 1000:g} ms per RPC read" if rig.rpc_s else "")
    rows = [
        [f"decision → last request handed over ({what})", n, ms(median(totals)), ms(pct(totals, 99)),
         f"{median(totals) / ref:.2f}", ""],
        ["  decision → first request handed over", n, ms(median([r.first for r in runs])),
         ms(pct([r.first for r in runs], 99)), "", ""],
        ["  CPU time of the engine's thread, decision → last request", n, ms(median([r.cpu for r in runs])),
         ms(pct([r.cpu for r in runs], 99)), "", "the rest of the wall time: fsync waits, other processes"],
        ["  before the decision (cold): the roots prepared", n, ms(median([r.prepare for r in runs])),
         ms(pct([r.prepare for r in runs], 99)), "", "heads, simulations, gas, fees, nonce sync, order prices"],
    ]  # fmt: skip
    if rig.rpc_s:
        return rows
    kinds = ("journal commits", "signing", "stand-in transports")
    mean_total = sum(totals) / len(runs)
    accounted = [0.0] * len(runs)
    for kind in kinds:
        values = [r.parts.get(kind, (0.0, 0))[0] for r in runs]
        accounted = [a + v for a, v in zip(accounted, values, strict=True)]
        counts = [r.parts.get(kind, (0.0, 0))[1] for r in runs]
        share = sum(values) / len(runs) / mean_total
        rows.append([f"  of which {kind}", n, ms(median(values)), ms(pct(values, 99)), "",
                     f"{share:.0%} of the mean; {median(counts):.0f} per run"])  # fmt: skip
    rest = [r.total - a for r, a in zip(runs, accounted, strict=True)]
    rows.append(["  of which the rest (engine, guards, encoding, tracker, driver)", n, ms(median(rest)),
                 ms(pct(rest, 99)), "", f"{sum(rest) / len(runs) / mean_total:.0%} of the mean"])  # fmt: skip
    reads = {loc: median([r.reads.get(loc, 0) for r in runs]) for loc in ("lab1", "lab2")}
    rows.append([f"  reference: bare store.append, one event ({rig.sync})", n, ms(ref),
                 ms(pct([r.reference for r in runs], 99)), "1.00",
                 "RPC reads before each send: " + ", ".join(f"{k} {v:.0f}" for k, v in reads.items())])  # fmt: skip
    return rows


# --- 3. dry runs --------------------------------------------------------------------------------------------


DRY_HELD, DRY_SALE = 1_000 * 10**18, 2_000 * 10**18
"""The dry run's request: 2,000 ETH-units of the three sources, 1,000 held at each (the README demo's size)."""


async def route_times(engine: Engine, snap: Snapshot, req: SwapRequest, n: int) -> tuple[list[float], str | None]:
    """Route-only times on one snapshot (deterministic: the same plan, or the same refusal, every time)."""
    out: list[float] = []
    refusal = None
    for i in range(-2, n):
        t = time.perf_counter()
        try:
            engine._route(snap, req, req.route.sell, req.route.amount, frozenset())
        except InvalidInput as exc:
            refusal = str(exc)
        if i >= 0:
            out.append(time.perf_counter() - t)
    return out, refusal


async def bench_dry(cfg: Config, tmp: Path, dry_runs: int, route_runs: int) -> tuple[list[list[str]], list[str]]:
    sell = ",".join(s for s, _ in SOURCES)
    req = SwapRequest(RouteRequest(sell, DRY_SALE, "USDC", max_hops=3))
    # one ETH-unit held at each: all three must sell
    small = SwapRequest(RouteRequest(sell, 3 * LEG_AMOUNT, "USDC", max_hops=2))
    notes: list[str] = []
    # a dry run's guards read the holdings its snapshot can see: give the lab's trader what the sale needs
    Lab(cfg.data_dir).fund({sell: str(DRY_HELD // 10**18) for sell, _ in SOURCES})
    with Store.open(f"sqlite:///{tmp}/dry.db") as store:
        seed_ledger(store)
        parts = await open_parts(cfg, store, live_guards=False)
        try:
            live = parts.wiring.snapshot

            async def snapshot() -> Snapshot:  # the same holdings at each source, so the sale may span all three
                return with_holdings(await live(), DRY_HELD)

            parts.wiring.snapshot = snapshot
            engine = Engine(parts.wiring)
            per_plan: list[float] = []
            steps: dict[str, list[float]] = {"snapshot": [], "route": [], "attempt0": []}
            legs: list[int] = []
            for i in range(-2, dry_runs):
                t = time.perf_counter()
                result = await engine.run(req, dry_run=True)
                dt = time.perf_counter() - t
                assert result.status == "dry_run" and all(x.status is LegStatus.SIMULATED for x in result.legs), [
                    (x.venue, x.status, x.reason) for x in result.legs
                ]
                if i >= 0:
                    per_plan.append(dt)
                    legs.append(len(result.legs))
                    for k, v in steps.items():
                        v.append(result.timings_ms[k] / 1000)
            fixed = await live()
            routed, _ = await route_times(engine, with_holdings(fixed, DRY_HELD), req, route_runs)
            tiny, refusal = await route_times(engine, with_holdings(fixed, LEG_AMOUNT), small, max(3, route_runs // 10))
            if refusal:
                notes.append(f"the small sale was refused on this snapshot: {refusal}")
        finally:
            await parts.close()
    rows = [
        [f"Engine.run(dry_run=True), live lab, {min(legs)}–{max(legs)} legs on 3 locations", str(len(per_plan)),
         ms(median(per_plan)), ms(pct(per_plan, 99)), f"{1 / median(per_plan):.1f}"],
        *[[f"  of which {k}", str(len(v)), ms(median(v)), ms(pct(v, 99)), ""] for k, v in steps.items()],
        ["Engine._route only, the same request, fixed snapshot", str(len(routed)), ms(median(routed)),
         ms(pct(routed, 99)), f"{1 / median(routed):.1f}"],
        ["Engine._route only, 3 ETH-units, 1 held at each (max 2 hops)", str(len(tiny)), ms(median(tiny)),
         ms(pct(tiny, 99)), "refused" if refusal else f"{1 / median(tiny):.2f}"],
    ]  # fmt: skip
    notes.insert(0, f"request: {DRY_SALE // 10**18} ETH-units of {sell} → USDC, max 3 hops, "
                    f"{DRY_HELD // 10**18} held at each source")  # fmt: skip
    return rows, notes


# --- main ---------------------------------------------------------------------------------------------------


async def bench(lab_dir: Path, tmp: Path, args: argparse.Namespace) -> None:
    cfg = lab_config(lab_dir, database_url=f"sqlite:///{tmp}/unused.db")
    with Store.open(f"sqlite:///{tmp}/snap.db") as store:
        parts = await open_parts(cfg, store)
        try:
            snap = with_holdings(await parts.wiring.snapshot(), 10 * LEG_AMOUNT)
            url = Lab(lab_dir).exchange_status().url
            assert url is not None
            ex = sim_binance(url, "", "")
            try:
                await ex.load_markets()
                markets = copy.deepcopy(ex.markets)
            finally:
                await ex.close()
        finally:
            await parts.close()
    plan = three_leg_plan(snap)
    legs = ", ".join(f"{leg.asset_in}→{leg.asset_out}" for leg in plan.legs)
    print(f"signing backend: {signing_backend()}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"plan: {legs}\n")

    if "1" in args.sections:
        await section_guards(cfg, tmp, snap, plan, args)
    if "2" in args.sections:
        await section_wire(cfg, tmp, snap, plan, markets, args)
    if "3" in args.sections:
        await section_dry(cfg, tmp, args)


async def section_guards(cfg: Config, tmp: Path, snap: Snapshot, plan: Plan, args: argparse.Namespace) -> None:
    rows = await bench_guards(cfg, tmp, snap, plan, args.guard_runs)
    print(table("1. guards + intent commit (ms; ratio to a bare commit on the same store, interleaved)",
                ["case", "n", "p50", "p99", "ratio"], rows))  # fmt: skip
    print("target: p50 ≤ 0.5 ms\n")


async def section_wire(
    cfg: Config, tmp: Path, snap: Snapshot, plan: Plan, markets: dict[str, Any], args: argparse.Namespace
) -> None:
    wrows: list[list[str]] = []
    for rig in await bench_wire(cfg, tmp, snap, plan, markets, args.wire_runs, args.rpc_ms):
        wrows += wire_rows(rig)
    print(table("2. decision-to-wire, 3-leg plan (2 executor txs + 1 order), in-process zero-latency venues "
                "(ms; ratio to a bare commit)", ["case", "n", "p50", "p99", "ratio", "note"], wrows))  # fmt: skip
    print("target: p50 ≤ 2 ms (SQLite FULL)\n")


async def section_dry(cfg: Config, tmp: Path, args: argparse.Namespace) -> None:
    drows, notes = await bench_dry(cfg, tmp, args.dry_runs, args.route_runs)
    print(table("3. plans in dry run (ms per plan)", ["case", "n", "p50", "p99", "plans/s"], drows))
    print("\n".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guard-runs", type=int, default=1000)
    parser.add_argument("--wire-runs", type=int, default=300)
    parser.add_argument("--dry-runs", type=int, default=40)
    parser.add_argument("--route-runs", type=int, default=100)
    parser.add_argument("--rpc-ms", type=float, default=1.0, help="extra row: this latency on every RPC read (0: off)")
    parser.add_argument("--sections", default="123", help="which of the three to run (e.g. 2)")
    parser.add_argument("--lab-dir", type=Path, help="use the lab already running in this data directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fp-bench-exec-") as tmp:
        if args.lab_dir is not None:
            asyncio.run(bench(args.lab_dir, Path(tmp), args))
            return
        lab = Lab(Path(tmp))
        lab.up()
        try:
            asyncio.run(bench(Path(tmp), Path(tmp), args))
        finally:
            lab.down()


if __name__ == "__main__":
    main()
