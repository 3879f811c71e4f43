"""What must hold after every scenario, checked from the journal and the venue's own records (never the engine's
memory). Each check returns the broken invariants it found, as sentences; an empty list is a pass."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fillpath.lab.chaos.chain import ChainWorld
from fillpath.lab.chaos.exchange import InProcessVenue
from fillpath.lab.chaos.faults import Fault, FaultPlan
from fillpath.lab.chaos.wallet import COIN, COINS, DECIMALS, ChaosWallet
from fillpath.model.assets import AssetId
from fillpath.model.events import BalanceAdjusted, DriftDetected, VenueHalted
from fillpath.model.orders import OrderState
from fillpath.state.reconcile_stream import StreamBalances, stream_source
from fillpath.state.records import IntentStatus, TxRecord, TxStatus
from fillpath.state.store import Store
from fillpath.state.transfers import IN_FLIGHT

if TYPE_CHECKING:
    from fillpath.lab.chaos.relayer import ChaosRelayer

NAMES = (
    "journal",
    "nothing_lost",
    "nothing_twice",
    "all_final",
    "no_drift",
    "halts",
    "clock",
    "pnl",
    "stream",
    "chain_lost",
    "chain_once",
    "nonces",
    "families",
    "in_flight",
)


@dataclass(frozen=True, slots=True)
class Broken:
    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


def journal(store: Store) -> list[Broken]:
    """seq gap-free from 1 and increasing; the projections equal a replay of the journal."""
    out = []
    seqs = [r.seq for r in store.events()]
    if seqs != list(range(1, len(seqs) + 1)):
        gaps = sorted(set(range(1, (max(seqs) if seqs else 0) + 1)) - set(seqs))[:5]
        out.append(Broken("journal", f"seq not gap-free/monotonic (missing {gaps})"))
    out += [Broken("journal", f"projection differs from replay: {p}") for p in store.verify()[:3]]
    return out


def nothing_lost(
    ledger: dict[str, Decimal | int], venue: InProcessVenue, moving: frozenset[str] = frozenset()
) -> list[Broken]:
    """Per asset, the ledger equals what the venue holds for the account (nothing is in flight once settled).
    ``moving``: symbols with funds in flight between locations (``in_flight`` checks them over every location)."""
    held = venue.holdings()
    out = []
    for asset in sorted((set(held) | set(ledger)) - moving):
        ours, theirs = Decimal(ledger.get(asset, 0)), held.get(asset, Decimal(0))
        if ours != theirs:
            out.append(Broken("nothing_lost", f"{asset}@labex: ledger {ours} ≠ venue {theirs} ({theirs - ours:+})"))
    return out


def nothing_twice(store: Store, venue: InProcessVenue) -> list[Broken]:
    """Every order the venue placed was journaled before it left (its client id known to us, for one intent), and
    no intent has more than one order at the venue."""
    out = []
    records = {cid: rec for (loc, cid), rec in store.orders().items()}
    per_intent: dict[str, list[str]] = {}
    for cid, oids in venue.orders_by_client().items():
        if len(oids) > 1:
            out.append(Broken("nothing_twice", f"client id {cid} placed {len(oids)} times"))
        rec = records.get(cid)
        if rec is None:
            out.append(Broken("nothing_twice", f"order {cid} at the venue was never journaled"))
            continue
        per_intent.setdefault(rec.intent_id or cid, []).append(cid)
    for intent, cids in sorted(per_intent.items()):
        if len(cids) > 1:
            out.append(Broken("nothing_twice", f"intent {intent} placed {len(cids)} orders: {', '.join(cids)}"))
    return out


def all_final(store: Store, venue: InProcessVenue, wallet: ChaosWallet | None = None) -> list[Broken]:
    """After recovery in a quiet world: no intent open (but a transfer the exchange still has pending: in flight,
    resolved only by its evidence later), every order terminal, nothing open at the venue."""
    out = []
    pending = wallet.pending_refs() if wallet is not None else set()
    for i in store.intents().values():
        t = store.transfer(i.intent_id)
        if t is not None and t.state in IN_FLIGHT and (t.ref in pending or i.ref in pending):
            continue
        if i.status is IntentStatus.OPEN:
            out.append(Broken("all_final", f"intent {i.intent_id} still open"))
    for (_, cid), rec in sorted(store.orders().items()):
        if not rec.status.terminal:
            out.append(Broken("all_final", f"order {cid} is {rec.status}"))
        elif rec.status is OrderState.REJECTED and cid in venue.orders_by_client():
            order = venue.engine.orders[venue.orders_by_client()[cid][0]]
            if order.executed_qty > 0:
                out.append(Broken("all_final", f"order {cid} recorded rejected, filled {order.executed_qty} at venue"))
    if venue.open_order_ids():
        out.append(Broken("all_final", f"orders still open at the venue: {venue.open_order_ids()}"))
    return out


def no_drift(store: Store) -> list[Broken]:
    """Nobody else trades on the account, so reconciliation must never have booked or halted on drift: a difference
    seen while an order is in flight is a *wait* (a ``DriftDetected`` on record, nothing booked), never an
    adjustment or a halt. Nor can a trade overfill its order: a trade held out as one (``orders.fills``) is one trade
    counted twice by the engine (the venue's own repeats carry the same trade id and are dropped before)."""
    out = []
    for r in store.events():
        e = r.event
        if isinstance(e, DriftDetected) and "would overfill" in e.source:
            out.append(Broken("no_drift", f"seq {r.seq}: {e.source}"))
        elif isinstance(e, BalanceAdjusted) and e.reason.startswith("reconciliation:"):
            out.append(Broken("no_drift", f"seq {r.seq}: {e.asset} adjusted by {e.delta} ({e.reason})"))
        elif isinstance(e, VenueHalted) and e.reason.startswith("drift on"):
            out.append(Broken("no_drift", f"seq {r.seq}: {e.venue} halted: {e.reason}"))
    return out[:5]


def halts(store: Store, faults: FaultPlan, dialect: str) -> list[Broken]:
    """A ban (Binance's 418) must leave a ``VenueHalted`` for the venue in the journal (OKX has no ban: a long
    throttle only pauses)."""
    if not faults.fired.get(Fault.BAN) or dialect == "okx":
        return []
    kinds = {r.event.kind for r in store.events()}
    return [] if "venue.halted" in kinds else [Broken("halts", "banned by the venue, no venue.halted journaled")]


def clock(store: Store, bound_ns: int) -> list[Broken]:
    """A venue time further than the bound from our receive time must have raised a ``clock.divergence``."""
    off = [r for r in store.events() if r.venue_ts is not None and abs(r.recv_ns - r.venue_ts) > bound_ns]
    if not off or any(r.event.kind == "clock.divergence" for r in store.events()):
        return []
    r = off[0]
    return [Broken("clock", f"seq {r.seq}: venue time {(r.venue_ts or 0) - r.recv_ns:+} ns off ours, no divergence")]


def stream(store: Store, heard: StreamBalances, venue: InProcessVenue) -> list[Broken]:
    """After a reconciliation pass in a quiet world: where the user stream's last word on an asset differs from what
    the venue holds, the pass recorded a stream-vs-REST drift for it (and booked nothing: ``no_drift``)."""
    held = venue.holdings()
    flagged = {r.event.asset for r in store.events()
               if isinstance(r.event, DriftDetected) and r.event.source == stream_source(heard.location)}  # fmt: skip
    out = []
    for asset, h in sorted(heard.latest().items()):
        if Decimal(h.report.amount) != held.get(asset.symbol, Decimal(0)) and asset not in flagged:
            out.append(Broken("stream", f"the stream says {asset} {h.report.amount}, the venue holds "
                                        f"{held.get(asset.symbol, 0)}: no stream-vs-REST drift recorded"))  # fmt: skip
    return out


def pnl(store: Store) -> list[Broken]:
    """Every finished execution's P&L components add up to its shortfall, to the unit."""
    out = []
    for r in store.events():
        if r.event.kind != "execution.finished":
            continue
        payload = json.loads(getattr(r.event, "result", "{}") or "{}")
        d = payload.get("pnl")
        if not d:
            continue
        parts = sum(int(v) for k, v in d.items() if k not in ("arrival", "shortfall"))
        if parts != int(d["shortfall"]):
            out.append(Broken("pnl", f"seq {r.seq}: components {parts} ≠ shortfall {d['shortfall']}"))
    return out


def check_all(
    store: Store,
    venue: InProcessVenue,
    faults: FaultPlan,
    ledger: dict[str, Decimal | int],
    clock_bound_ns: int,
    moving: frozenset[str] = frozenset(),
    wallet: ChaosWallet | None = None,
) -> Sequence[Broken]:
    return [
        *journal(store),
        *nothing_lost(ledger, venue, moving),
        *nothing_twice(store, venue),
        *all_final(store, venue, wallet),
        *no_drift(store),
        *halts(store, faults, venue.dialect),
        *clock(store, clock_bound_ns),
        *pnl(store),
    ]


def moving(store: Store, wallet: ChaosWallet | None, relayer: ChaosRelayer | None = None) -> frozenset[str]:
    """The symbols with a transfer in flight, by the journal, by the exchange's own records or by the bridge's (a
    deposit in a spoke pool whose relay is not filled)."""
    out = {t.source.symbol for t in store.transfers().values() if t.state in IN_FLIGHT and t.source is not None}
    if wallet is not None:
        out |= {coin for coin in COINS if wallet.pending(coin)}
    if relayer is not None:
        out |= {s for s, v in relayer.pending(_decimals(relayer.chains.values())).items() if v}
    return frozenset(out)


def _decimals(chains: Iterable[ChainWorld]) -> dict[str, dict[str, int]]:
    """Per chain location, each token's decimals by symbol (and the native asset's, 18)."""
    out: dict[str, dict[str, int]] = {}
    for c in chains:
        out[c.lab.location] = {"ETH": 18, **{t.symbol: t.decimals for t in c.lab.source.tokens}}
    return out


def in_flight(
    store: Store,
    venue: InProcessVenue,
    world: ChainWorld | Sequence[ChainWorld],
    wallet: ChaosWallet | None,
    relayer: ChaosRelayer | None = None,
) -> list[Broken]:
    """Ledger + in flight = venues, per symbol moved between locations (human units): the ledger on every location
    plus what the journal has in flight (taken by the source, not credited at the target) equals what the exchange
    account and every chain hold plus what the exchange's own records have in flight (deposits seen and not
    credited, withdrawals taken and not landed) and what the bridge's spoke pools hold for relays not filled.
    And no transfer the exchange or the bridge completed (a credit, a landing, a fill, a refund) is still in flight in
    the journal. The exchange's coins (USDC, ETH) count on every chain; ETH is also what gas is paid in, booked to the
    wei, so gas spent is on both sides."""
    out = []
    chains = [world] if isinstance(world, ChainWorld) else list(world)
    decimals = _decimals(chains)
    held = {c.lab.location: c.balances() for c in chains}
    bridge_pending = relayer.pending(decimals) if relayer is not None else {}
    symbols = {COIN} if wallet is not None else set()
    if wallet is not None:
        symbols |= {coin for coin in COINS if wallet.pending(coin)}
    symbols |= {t.source.symbol for t in store.transfers().values() if t.source is not None} | set(bridge_pending)
    for symbol in sorted(symbols):
        ours = Decimal(store.balance(AssetId(symbol, venue.location)) or 0)
        theirs = venue.holdings().get(symbol, Decimal(0))
        for loc, dec in decimals.items():
            if symbol in dec:
                ours += Decimal(int(store.balance(AssetId(symbol, loc)) or 0)).scaleb(-dec[symbol])
                theirs += Decimal(held[loc].get(symbol, 0)).scaleb(-dec[symbol])
        flying = Decimal(0)
        for t in store.transfers().values():
            if t.state not in IN_FLIGHT or t.source is None or t.source.symbol != symbol or t.amount is None:
                continue
            units = decimals.get(t.source.location, {}).get(symbol, DECIMALS)
            flying += t.amount if isinstance(t.amount, Decimal) else Decimal(t.amount).scaleb(-units)
        pending = wallet.pending(symbol) if wallet is not None and symbol in COINS else Decimal(0)
        pending += bridge_pending.get(symbol, Decimal(0))
        if ours + flying != theirs + pending:
            gap = theirs + pending - ours - flying
            out.append(Broken("in_flight", f"{symbol}: ledger {ours} + in flight {flying} ≠ venues {theirs} + "
                                           f"pending at the exchange and the bridge {pending} ({gap:+})"))  # fmt: skip
    landed_refs = wallet.landed_refs() if wallet is not None else set()
    landed = [t.transfer_id for t in store.transfers().values() if t.state in IN_FLIGHT and t.ref is not None
              and t.ref in landed_refs]  # fmt: skip
    if landed:
        out.append(Broken("in_flight", f"transfers the exchange completed still in flight in the journal: {landed}"))
    if relayer is not None:
        ended = relayer.ended()
        settled = [t.transfer_id for t in store.transfers().values() if t.state in IN_FLIGHT and t.source is not None
                   and (t.source.location, t.ref) in ended]  # fmt: skip
        if settled:
            out.append(Broken("in_flight", f"bridge transfers filled or refunded still in flight in the journal: "
                                           f"{settled}"))  # fmt: skip
    return out


def families(
    journaled: Mapping[str, TxRecord], on_chain: Sequence[Mapping[str, Any]], trader: str, loc: str
) -> list[Broken]:
    """``families``: the transactions at one nonce of ours (an original, its fee bumps, a gap filler) have at most one
    included member in the journal, and it is the one the chain holds at that nonce; every other member is replaced
    or dropped; and no nonce was used twice on chain."""
    out: list[Broken] = []
    by_nonce: dict[int, list[TxRecord]] = {}
    for t in journaled.values():
        if t.nonce is not None and (t.sender or "").lower() == trader:
            by_nonce.setdefault(t.nonce, []).append(t)
    chain_at: dict[int, list[str]] = {}
    for tx in on_chain:
        chain_at.setdefault(int(tx["nonce"]), []).append(str(tx["hash"]).lower())
    for nonce, hashes in sorted(chain_at.items()):
        if len(hashes) > 1:
            out.append(Broken("families", f"{loc}: nonce {nonce} used {len(hashes)} times on chain: {hashes}"))
    for nonce, members in sorted(by_nonce.items()):
        if len(members) < 2:
            continue
        included = [t for t in members if t.status in (TxStatus.CONFIRMED, TxStatus.REVERTED)]
        if len(included) > 1:
            out.append(Broken("families", f"{loc}: nonce {nonce} has {len(included)} included transactions in the "
                                          f"journal: {[t.tx_hash[:12] for t in included]}"))  # fmt: skip
        elif included and included[0].tx_hash.lower() not in chain_at.get(nonce, [included[0].tx_hash.lower()]):
            out.append(Broken("families", f"{loc}: nonce {nonce}: the journal's included {included[0].tx_hash[:12]} is "
                                          f"not the chain's {chain_at[nonce][0][:12]}"))  # fmt: skip
        if included:
            loose = [t.tx_hash[:12] for t in members
                     if t is not included[0] and t.status not in (TxStatus.REPLACED, TxStatus.DROPPED)]  # fmt: skip
            if loose:
                out.append(Broken("families", f"{loc}: nonce {nonce}: {loose} neither replaced nor dropped beside the "
                                              f"included {included[0].tx_hash[:12]}"))  # fmt: skip
    return out


def chain(
    store: Store, world: ChainWorld, ledger: dict[str, Decimal | int], moving: frozenset[str] = frozenset()
) -> list[Broken]:
    """The chain, read from its canonical blocks (never the engine's memory):

    - ``chain_lost``: per asset, the ledger equals what the trader holds on chain, to the wei;
    - ``chain_once``: every transaction of ours on chain was journaled before it left, and each intent has at most
      one executor transaction on chain;
    - ``nonces``: the journal's transactions use the account's nonces contiguously (no gap a later transaction would
      wait behind forever), and every nonce the chain consumed is one the journal recorded."""
    out: list[Broken] = []
    held = world.balances()
    loc = world.lab.location
    for symbol in sorted((set(held) | set(ledger)) - moving):
        ours, theirs = int(ledger.get(symbol, 0)), held.get(symbol, 0)
        if ours != theirs:
            out.append(Broken("chain_lost", f"{symbol}@{loc}: ledger {ours} ≠ chain {theirs} ({theirs - ours:+})"))
    executor = world.lab.deployment.address("FillpathExecutor").lower()
    trader = world.lab.trader.lower()
    journaled = {h.lower(): t for (v, h), t in store.transactions().items() if v == loc}
    per_intent: dict[str, list[str]] = {}
    consumed: set[int] = set()
    for tx in world.ours_on_chain():
        h = tx["hash"].lower()
        consumed.add(int(tx["nonce"]))
        rec = journaled.get(h)
        if rec is None:
            out.append(Broken("chain_once", f"tx {h[:12]} (nonce {tx['nonce']}) on {loc} was never journaled"))
            continue
        if str(tx.get("to") or "").lower() == executor and rec.intent_id:
            per_intent.setdefault(rec.intent_id, []).append(h)
    for intent, hashes in sorted(per_intent.items()):
        if len(hashes) > 1:
            out.append(Broken("chain_once", f"intent {intent} executed {len(hashes)} times on chain: {hashes}"))
    out += families(journaled, world.ours_on_chain(), trader, loc)
    used = sorted({t.nonce for t in journaled.values() if t.nonce is not None and (t.sender or "").lower() == trader})
    if used and used != list(range(used[0], used[-1] + 1)):
        out.append(Broken("nonces", f"{loc}: the journal's nonces have a gap: {used}"))
    final = world.nonce()
    if used and final != used[-1] + 1:
        out.append(Broken("nonces", f"{loc}: the chain's nonce is {final}; the journal's last is {used[-1]}"))
    return out
