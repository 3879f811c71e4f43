"""The fault vocabulary: what can go wrong, drawn per scenario from the scenario's one seeded ``random.Random``.

A scenario draws a few kinds (``draw``), each with a rate; the in-process venues and the world consult
:meth:`FaultPlan.hit` at the moment the fault could happen, and every hit is counted, so a run reports which
kinds actually fired (a kind drawn but never reached counts for nothing).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Fault(StrEnum):
    LATENCY = "latency"
    """Every venue call takes a random 1–400 ms: concurrent requests and replies reorder."""
    SUBMIT_LOST = "submit_lost"
    """An order request times out before the venue saw it (nothing placed)."""
    REPLY_LOST = "reply_lost"
    """An order is placed but its reply is lost (a timeout): the outcome is unknown."""
    SERVER_ERROR = "server_error"
    """A read answers 5xx."""
    RATE_LIMIT = "rate_limit"
    """A request is refused with 429 and a Retry-After."""
    BAN = "ban"
    """A request is refused with 418: the account is banned for a while (a halt is due)."""
    DELAYED_FILLS = "delayed_fills"
    """An order is acknowledged open and matched 0.1–12 s later."""
    ACK_THEN_DENY = "ack_then_deny"
    """An order is acknowledged, then the venue never heard of it."""
    DUPLICATE_TRADES = "duplicate_trades"
    """The trade list repeats every trade (the same trade id twice)."""
    STALE_READ = "stale_read"
    """An order query answers from before the latest match (REST lagging the matching engine)."""
    MARKET_MOVE = "market_move"
    """The books walk between the snapshot and the orders."""
    CLOCK_SKEW = "clock_skew"
    """The venue's clock runs 0.5–6 s ahead of ours."""
    STREAM_LOST = "stream_lost"
    """A balance push of the user stream never arrives."""
    STREAM_DUPLICATE = "stream_duplicate"
    """A balance push arrives twice, the second up to 3 s later (after newer ones)."""
    STREAM_REORDER = "stream_reorder"
    """Balance pushes take 0–2 s each: a newer one may arrive before an older one."""
    STREAM_GARBLE = "stream_garble"
    """A balance push says a wrong amount: the stream and REST disagree."""
    CRASH = "crash"
    """The engine dies at a failpoint (``intent``, ``sent``, ``ack``) and is restarted: recover, reconcile, go on."""
    RPC_TIMEOUT = "rpc_timeout"
    """A chain RPC read times out."""
    TX_REPLY_LOST = "tx_reply_lost"
    """A transaction reaches the node's mempool, the reply to ``eth_sendRawTransaction`` is lost (a timeout)."""
    RPC_ERROR = "rpc_error"
    """A chain RPC read answers 503."""
    TX_DROPPED = "tx_dropped"
    """A sent transaction is dropped from the mempool before a block includes it."""
    TX_STUCK = "tx_stuck"
    """A sent transaction waits in the mempool 5–40 s (underpriced, say) before a block includes it."""
    REORG = "reorg"
    """The block that included our transactions is un-mined at the next block: they go back to the mempool."""
    DEPOSIT_LATE = "deposit_late"
    """A confirmed deposit is credited to the exchange account 5–90 s late."""
    WITHDRAW_STUCK = "withdraw_stuck"
    """A withdrawal stays "processing" 30–400 s before the exchange sends it."""
    WITHDRAW_FAIL = "withdraw_fail"
    """The exchange fails a withdrawal: the amount is back in the account."""
    WALLET_REPLY_LOST = "wallet_reply_lost"
    """A withdrawal request reaches the exchange; its reply is lost (a timeout)."""
    BRIDGE_SLOW = "bridge_slow"
    """The relayer fills a bridge deposit 20–200 s after it (past the leg's wait; past the deadline: refunded)."""
    BRIDGE_NO_FILL = "bridge_no_fill"
    """The relayer never fills a bridge deposit: the settler refunds it on the origin after its fill deadline."""
    RELAYER_CRASH = "relayer_crash"
    """The relayer dies (seeing a deposit, or right after a fill), is down 10–100 s and forgets what it held."""
    BRIDGE_LIQUIDITY = "bridge_liquidity"
    """The relayer's liquidity covers relays only up to a drawn amount per token (Across fills a relay whole or not
    at all): a larger one is not filled and is refunded after its deadline."""
    TX_UNDERPRICED = "tx_underpriced"
    """A sent transaction's fee is too low for the block builders: it is not mined until a fee bump replaces it (or,
    30–120 s later, the base fee falls back)."""
    REPLACE_RACE = "replace_race"
    """A fee bump reaches the node just after the original was mined: the replacement gets ``nonce too low``."""
    REORG_LOST = "reorg_lost"
    """The block that included our transactions is un-mined at the next block and they do not come back: the engine
    must find them missing and send the same bytes again (a world that draws it follows 2 confirmations)."""


CHAIN_KINDS: tuple[Fault, ...] = (
    Fault.RPC_TIMEOUT, Fault.RPC_ERROR, Fault.TX_REPLY_LOST, Fault.TX_DROPPED, Fault.TX_STUCK, Fault.REORG,
)  # fmt: skip
"""Faults only a world with the chain can draw (a world without it draws from the others, as before they existed:
every earlier seed keeps its draws)."""
TRANSFER_KINDS: tuple[Fault, ...] = (
    Fault.DEPOSIT_LATE, Fault.WITHDRAW_STUCK, Fault.WITHDRAW_FAIL, Fault.WALLET_REPLY_LOST,
)  # fmt: skip
"""Faults of the exchange's deposits and withdrawals (a world with the chain). They are drawn, and strike, from a
random source of their own (``transfer:SEED``): a chain seed found before they existed keeps its draws and, unless its
workload moves funds, its whole run."""
BRIDGE_KINDS: tuple[Fault, ...] = (Fault.BRIDGE_SLOW, Fault.BRIDGE_NO_FILL, Fault.RELAYER_CRASH)
"""Faults of the bridge (a world with ``--bridge``), drawn and striking from its own random source (``bridge:SEED``):
a seed without the bridge keeps its draws."""
BRIDGE_WORLD_KINDS: tuple[Fault, ...] = (*BRIDGE_KINDS, Fault.BRIDGE_LIQUIDITY)
"""Every kind only a world with the bridge draws (``bridge_liquidity`` from a source of its own)."""
REPLACE_KINDS: tuple[Fault, ...] = (Fault.TX_UNDERPRICED, Fault.REPLACE_RACE)
"""Fee-bump faults (a world with the chain), drawn and striking from their own random source (``replace:SEED``): every
earlier chain seed keeps its draws."""
REORG_KINDS: tuple[Fault, ...] = (Fault.REORG_LOST,)
"""The lost reorg (a world with the chain), from a source of its own (``reorg:SEED``)."""
REPLACE_SHARE = 0.5
"""The share of chain scenarios (with the kinds allowed) that draw fee-bump faults, and, separately, a lost reorg."""
REPLACE_FAILPOINT_SHARE = 0.25
"""The share of chain scenarios that drew no other crash whose process dies at ``replace`` (if a fee bump comes)."""
LIQUIDITY: dict[str, tuple[Decimal, Decimal]] = {"USDC": (Decimal(500), Decimal(100_000)),
                                                 "WETH": (Decimal("0.2"), Decimal(60))}  # fmt: skip
"""``bridge_liquidity``: per bridged symbol, the range (human units, drawn log-uniformly) of the most the relayer
fills in one relay: the bridge steps move 2–50% of holdings of 600,000 USDC or 300 WETH, so some pass and some do
not."""
LIQUIDITY_SHARE = 0.3
"""The share of bridge scenarios (with the kind allowed) whose relayer has limited liquidity."""
ALL: tuple[Fault, ...] = tuple(Fault)

RATES: dict[Fault, tuple[float, float]] = {
    Fault.LATENCY: (1.0, 1.0),
    Fault.SUBMIT_LOST: (0.1, 0.5),
    Fault.REPLY_LOST: (0.1, 0.5),
    Fault.SERVER_ERROR: (0.05, 0.3),
    Fault.RATE_LIMIT: (0.05, 0.3),
    Fault.BAN: (0.02, 0.1),
    Fault.DELAYED_FILLS: (0.3, 1.0),
    Fault.ACK_THEN_DENY: (0.1, 0.5),
    Fault.DUPLICATE_TRADES: (0.5, 1.0),
    Fault.STALE_READ: (0.2, 0.6),
    Fault.MARKET_MOVE: (0.3, 1.0),
    Fault.CLOCK_SKEW: (1.0, 1.0),
    Fault.STREAM_LOST: (0.1, 0.5),
    Fault.STREAM_DUPLICATE: (0.2, 0.6),
    Fault.STREAM_REORDER: (1.0, 1.0),
    Fault.STREAM_GARBLE: (0.1, 0.5),
    Fault.CRASH: (0.3, 1.0),
    Fault.RPC_TIMEOUT: (0.02, 0.15),
    Fault.RPC_ERROR: (0.02, 0.15),
    Fault.TX_REPLY_LOST: (0.3, 0.8),
    Fault.TX_DROPPED: (0.2, 0.6),
    Fault.TX_STUCK: (0.2, 0.6),
    Fault.REORG: (0.2, 0.6),
    Fault.DEPOSIT_LATE: (0.3, 1.0),
    Fault.WITHDRAW_STUCK: (0.3, 1.0),
    Fault.WITHDRAW_FAIL: (0.2, 0.6),
    Fault.WALLET_REPLY_LOST: (0.2, 0.6),
    Fault.BRIDGE_SLOW: (0.3, 1.0),
    Fault.BRIDGE_NO_FILL: (0.2, 0.6),
    Fault.RELAYER_CRASH: (0.1, 0.4),
    Fault.BRIDGE_LIQUIDITY: (1.0, 1.0),
    Fault.TX_UNDERPRICED: (0.2, 0.6),
    Fault.REPLACE_RACE: (0.3, 1.0),
    Fault.REORG_LOST: (0.2, 0.6),
}
"""Per kind, the range its rate (the chance per opportunity) is drawn from."""

FAILPOINTS = ("intent", "sent", "ack")
CHAIN_FAILPOINTS = ("intent", "sent", "ack", "broadcast")
"""With the chain: ``broadcast`` too (the transaction's bytes left, before its receipt)."""
TRANSFER_FAILPOINTS = ("transfer_intent", "transfer_sent", "transfer_done", "withdraw_sent")
"""The transfer runners' failpoints (``execution/cex_transfers.py``): drawn (from the transfer random source) in a
world with the chain whose scenario drew no other crash."""
REPLACE_FAILPOINT = "replace"
"""The tracker journaled a fee-bump replacement, its bytes not sent yet (``chains/tracker.py``)."""
ALL_FAILPOINTS = (*CHAIN_FAILPOINTS, *TRANSFER_FAILPOINTS, REPLACE_FAILPOINT)
"""Where the engine's process dies: ``intent`` and ``ack`` are the execution package's failpoints
(``execution/failpoints.py``); ``sent`` is the world's own: the venue placed the order, its reply is on the wire."""


def parse_kinds(text: str | None) -> tuple[Fault, ...]:
    """``--faults a,b``: the kinds a run may draw from (all by default)."""
    if not text:
        return ALL
    out = []
    for name in text.split(","):
        name = name.strip()
        try:
            out.append(Fault(name))
        except ValueError:
            from fillpath.model.errors import InvalidInput

            raise InvalidInput("--faults", f"{name!r} is not a fault kind", f"one of {', '.join(ALL)}") from None
    return tuple(out)


@dataclass
class FaultPlan:
    """The faults of one scenario: each drawn kind's rate, and what fired."""

    rng: random.Random
    rates: dict[Fault, float]
    skew_ms: int = 0
    failpoint: str | None = None
    """Where the engine dies (once), when ``crash`` was drawn."""
    fired: Counter[str] = field(default_factory=Counter)
    side: random.Random | None = None
    """The transfer kinds' own random source (``TRANSFER_KINDS``)."""
    bridge_rng: random.Random = field(default_factory=random.Random)
    """The bridge kinds' own random source (``BRIDGE_KINDS``; seeded ``bridge:SEED`` by :meth:`draw_bridge`)."""
    liquidity: dict[str, Decimal] = field(default_factory=dict)
    """``bridge_liquidity``: per symbol, the most the relayer fills in one relay (human units)."""
    replace_rng: random.Random = field(default_factory=random.Random)
    """The fee-bump kinds' own random source (``REPLACE_KINDS``; seeded ``replace:SEED`` by :meth:`draw_replace`)."""
    reorg_rng: random.Random = field(default_factory=random.Random)
    """The lost reorg's own random source (``reorg:SEED``)."""

    @classmethod
    def draw(
        cls, rng: random.Random, kinds: Iterable[Fault] = ALL, *, max_kinds: int = 4, chain: bool = False
    ) -> FaultPlan:
        own = {*TRANSFER_KINDS, *BRIDGE_KINDS, Fault.BRIDGE_LIQUIDITY, *REPLACE_KINDS, *REORG_KINDS}  # their own
        pool = sorted((set(kinds) if chain else set(kinds) - set(CHAIN_KINDS)) - own)
        chosen = rng.sample(pool, rng.randint(0, min(max_kinds, len(pool))))
        rates = {k: rng.uniform(*RATES[k]) for k in sorted(chosen)}
        plan = cls(rng, rates)
        if Fault.CLOCK_SKEW in rates:
            plan.skew_ms = rng.randint(500, 6_000)
            plan.note(Fault.CLOCK_SKEW)
        if Fault.CRASH in rates:
            plan.failpoint = rng.choice(CHAIN_FAILPOINTS if chain else FAILPOINTS)
        return plan

    def draw_transfers(self, side: random.Random, kinds: Iterable[Fault] = ALL) -> None:
        """The transfer kinds for a world with the chain, from their own source (and, when the scenario drew no
        crash, maybe a crash at one of the transfer runners' failpoints)."""
        self.side = side
        pool = sorted(set(kinds) & set(TRANSFER_KINDS))
        for k in sorted(side.sample(pool, side.randint(0, len(pool)))):
            self.rates[k] = side.uniform(*RATES[k])
        if Fault.CRASH in kinds and self.failpoint is None and side.random() < 0.3:
            self.failpoint = side.choice(TRANSFER_FAILPOINTS)

    def draw_bridge(self, rng: random.Random, kinds: Iterable[Fault] = ALL) -> None:
        """The bridge kinds for a world with the bridge, from their own source."""
        self.bridge_rng = rng
        pool = sorted(set(kinds) & set(BRIDGE_KINDS))
        for k in sorted(rng.sample(pool, rng.randint(0, len(pool)))):
            self.rates[k] = rng.uniform(*RATES[k])

    def draw_liquidity(self, rng: random.Random, kinds: Iterable[Fault] = ALL) -> None:
        """``bridge_liquidity`` for a world with the bridge, from a source of its own (``liquidity:SEED``: the bridge
        seeds found before it keep their draws)."""
        if Fault.BRIDGE_LIQUIDITY not in set(kinds) or rng.random() >= LIQUIDITY_SHARE:
            return
        self.rates[Fault.BRIDGE_LIQUIDITY] = 1.0
        for symbol, (low, high) in sorted(LIQUIDITY.items()):
            cap = math.exp(rng.uniform(math.log(low), math.log(high)))
            self.liquidity[symbol] = Decimal(f"{cap:.4g}").normalize()

    def draw_replace(self, rng: random.Random, reorg: random.Random, kinds: Iterable[Fault] = ALL) -> None:
        """The fee-bump kinds and the lost reorg for a world with the chain, each from its own source; and, when the
        scenario drew no other crash, maybe a crash at ``replace``."""
        self.replace_rng, self.reorg_rng = rng, reorg
        allowed = set(kinds)
        if rng.random() < REPLACE_SHARE:
            pool = sorted(allowed & set(REPLACE_KINDS))
            for k in sorted(rng.sample(pool, rng.randint(1, len(pool)) if pool else 0)):
                self.rates[k] = rng.uniform(*RATES[k])
        if Fault.CRASH in allowed and self.failpoint is None and rng.random() < REPLACE_FAILPOINT_SHARE:
            self.failpoint = REPLACE_FAILPOINT
        if Fault.REORG_LOST in allowed and reorg.random() < REPLACE_SHARE:
            self.rates[Fault.REORG_LOST] = reorg.uniform(*RATES[Fault.REORG_LOST])

    def on(self, kind: Fault) -> bool:
        return kind in self.rates

    def hit(self, kind: Fault) -> bool:
        """Whether ``kind`` strikes now (drawn from the scenario's random source, counted when it does)."""
        rng = self.side if self.side is not None and kind in TRANSFER_KINDS else self.rng
        if kind in BRIDGE_KINDS:
            rng = self.bridge_rng
        elif kind in REPLACE_KINDS:
            rng = self.replace_rng
        elif kind in REORG_KINDS:
            rng = self.reorg_rng
        return self.hit_from(kind, rng)

    def hit_from(self, kind: Fault, rng: random.Random) -> bool:
        """As :meth:`hit`, from another random source (a part of the world added later draws from its own, so the
        seeds found before it keep their draws)."""
        rate = self.rates.get(kind)
        if rate is None or rng.random() >= rate:
            return False
        self.fired[kind] += 1
        return True

    def note(self, name: str) -> None:
        self.fired[name] += 1
