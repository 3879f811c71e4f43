"""The transaction tracker (cold path): follows every transaction we signed to a final state.

pending → included (block number and hash) → confirmed (configured depth) | reverted | dropped | replaced;
an included transaction whose block leaves the canonical chain is reorged and pending again. Transactions that
share a sender and nonce form a *family* (an original and its speed-ups or cancels): exactly one member can be
final, and the others end as replaced. Every transition is appended to the journal with its block data.

A transaction whose send timed out is tracked like any other: it is *unknown* until the chain says otherwise.
Its hash finds it (mempool or receipt); if nothing has it and its nonce is unused it was never received, and
the same signed bytes are sent again, which is safe because they cannot execute twice. If its nonce was used
by a transaction we do not know, it is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fillpath.chains.rpc import RpcClient, RpcError, hex_int
from fillpath.chains.transactions import SignedTx
from fillpath.model.errors import Ambiguous, Retryable
from fillpath.model.events import (
    Event,
    TxBroadcast,
    TxConfirmed,
    TxDropped,
    TxMined,
    TxReorged,
    TxReplaced,
    TxReverted,
)
from fillpath.model.ports import Journal


class TxState(StrEnum):
    PENDING = "pending"
    INCLUDED = "included"
    CONFIRMED = "confirmed"
    REVERTED = "reverted"
    DROPPED = "dropped"
    REPLACED = "replaced"


FINAL = frozenset({TxState.CONFIRMED, TxState.REVERTED, TxState.DROPPED, TxState.REPLACED})


@dataclass(frozen=True, slots=True)
class TrackerPolicy:
    confirmations: int = 2
    missing_polls_before_drop: int = 2  # polls a transaction may be absent everywhere before it counts as dropped
    resend_dropped: bool = True  # a dropped transaction whose nonce is still free is re-sent (same bytes), once
    max_resends: int = 1
    replace_after_s: float | None = None  # speed up a transaction pending this long (needs a replacer)
    max_replacements: int = 3


@dataclass
class Tracked:
    """The tracker's view of one transaction (mutable: it is the tracker's working state, not a value)."""

    tx_hash: str
    sender: str
    nonce: int
    raw: bytes | None
    state: TxState = TxState.PENDING
    block_number: int | None = None
    block_hash: str | None = None
    since: float = 0.0
    missing: int = 0
    resends: int = 0
    signed: SignedTx | None = field(default=None, repr=False)
    intent_id: str | None = None
    """The intent it belongs to: its replacements are journaled under it too (recovery finds the whole family)."""
    first_fee: int | None = None
    """The max fee per gas the family was first signed with (a replacer's cap is a multiple of it)."""


Replacer = Callable[[Tracked], Awaitable[SignedTx | None]]
"""Re-signs a pending transaction at its nonce with higher fees, or None when it will not (a fee cap reached, a
transaction it cannot re-sign): ``chains/replacer.py``."""
REFUSALS = ("nonce too low", "underpriced")
"""What a node answers when it refuses a replacement for good (geth: ``replacement transaction underpriced``;
``nonce too low`` when the original was mined meanwhile): it never entered the mempool."""


class TxTracker:
    def __init__(
        self,
        rpc: RpcClient,
        location: str,
        journal: Journal,
        policy: TrackerPolicy = TrackerPolicy(),
        *,
        replacer: Replacer | None = None,
        clock: Callable[[], float] = time.monotonic,
        crash: Callable[[str], None] = lambda _name: None,
    ) -> None:
        self.rpc = rpc
        self.location = location
        self.journal = journal
        self.policy = policy
        self.replacer = replacer
        self.clock = clock
        self.crash = crash
        """A failpoint hook (``replace``: a replacement journaled, its bytes not sent yet)."""
        self.txs: dict[str, Tracked] = {}
        self.head: int | None = None
        self._polling = asyncio.Lock()

    # --- registering -------------------------------------------------------------------------------------
    def track(self, tx: SignedTx, *, intent_id: str | None = None, record: bool = True) -> Tracked:
        """Follow ``tx`` (call *before* sending it, so a crash mid-send leaves a record to resolve)."""
        t = Tracked(tx.tx_hash, tx.sender, tx.nonce, tx.raw, since=self.clock(), signed=tx, intent_id=intent_id,
                    first_fee=tx.fees.worst_case_per_gas())  # fmt: skip
        self.txs[tx.tx_hash] = t
        if record:
            self._emit(TxBroadcast(self.location, tx.tx_hash, tx.sender, tx.nonce, intent_id, raw=_hex(tx.raw)))
        return t

    def adopt(
        self,
        tx_hash: str,
        sender: str,
        nonce: int,
        raw: bytes | None = None,
        intent_id: str | None = None,
        included: tuple[int, str] | None = None,
        signed: SignedTx | None = None,
    ) -> Tracked:
        """Follow a transaction already in the journal (after a restart): no new broadcast event. One already
        followed stays as it is (a second adoption would forget its state). ``included``: the block (number, hash)
        the journal last saw it mined in, so a block a reorg took away since is journaled as one (chaos --chain seed
        6063: a deposit mined, the process died, a lost reorg took it; adopted as pending, it was journaled dropped
        while the journal still said mined)."""
        if tx_hash in self.txs:
            return self.txs[tx_hash]
        t = Tracked(tx_hash, sender, nonce, raw, since=self.clock(), intent_id=intent_id, signed=signed,
                    first_fee=signed.fees.worst_case_per_gas() if signed is not None else None)  # fmt: skip
        if included is not None:
            t.state, (t.block_number, t.block_hash) = TxState.INCLUDED, included
        self.txs[tx_hash] = t
        return t

    def state(self, tx_hash: str) -> TxState:
        return self.txs[tx_hash].state

    def family(self, sender: str, nonce: int) -> list[Tracked]:
        return [t for t in self.txs.values() if t.sender.lower() == sender.lower() and t.nonce == nonce]

    def included(self, tx_hash: str) -> Tracked | None:
        """The member of ``tx_hash``'s family that the chain included for good (confirmed or reverted): itself, a
        replacement of it, or the original it replaced; None while none is. Only members of the same intent count: a
        replacement carries its original's, a nonce-gap filler none (a filler mined at a dropped call's nonce is not
        the call)."""
        t = self.txs[tx_hash]
        if t.state in (TxState.CONFIRMED, TxState.REVERTED):
            return t
        return next((m for m in self.family(t.sender, t.nonce) if m.intent_id == t.intent_id
                     and m.state in (TxState.CONFIRMED, TxState.REVERTED)), None)  # fmt: skip

    def outcome(self, tx_hash: str) -> tuple[TxState, str]:
        """``tx_hash``'s family's outcome and the hash whose receipt says it: the included member's state and hash
        once one is included for good (a replacement runs the same call at the same nonce, so the family's outcome
        is the transaction's); pending while a member of it is not final; else its own state and hash."""
        winner = self.included(tx_hash)
        if winner is not None:
            return winner.state, winner.tx_hash
        t = self.txs[tx_hash]
        if t.state in FINAL and any(m.intent_id == t.intent_id and m.state not in FINAL
                                    for m in self.family(t.sender, t.nonce)):  # fmt: skip
            # dropped itself, but a replacement of it still waits to be mined: the family is not done (chaos --chain
            # seed 4019: recovery took a dropped original for the outcome while its bump mined later, unbooked)
            return TxState.PENDING, tx_hash
        return t.state, tx_hash

    # --- polling -----------------------------------------------------------------------------------------
    def backlog(self) -> int:
        """Transactions not yet final (what the service's metrics call the tracker backlog)."""
        return sum(1 for t in self.txs.values() if t.state not in FINAL)

    async def poll(self) -> list[Event]:
        """One pass over every unfinished family. Returns the events it recorded.

        Passes never overlap: a long-running service follows heads while a swap waits on the same tracker, and two
        interleaved passes would each journal the same transition."""
        async with self._polling:
            return await self._poll()

    async def _poll(self) -> list[Event]:
        emitted: list[Event] = []
        open_families = sorted(
            {(t.sender, t.nonce) for t in self.txs.values() if t.state not in FINAL}, key=lambda k: (k[0], k[1])
        )
        if not open_families:
            return emitted
        self.head = hex_int(await self.rpc.request("eth_blockNumber"))
        for sender, nonce in open_families:
            emitted += await self._poll_family(sender, nonce)
        return emitted

    async def _poll_family(self, sender: str, nonce: int) -> list[Event]:
        assert self.head is not None
        fam = [t for t in self.family(sender, nonce) if t.state not in FINAL]
        # The nonce count is read *before* the receipts, so a transaction mined between the two reads is seen
        # mined; and a used nonce without a receipt counts as "used by another" only when it persists (below).
        latest = hex_int(await self.rpc.request("eth_getTransactionCount", [sender, "latest"]))
        receipts = await self.rpc.batch([("eth_getTransactionReceipt", [t.tx_hash]) for t in fam])
        out: list[Event] = []
        mined = [(t, r) for t, r in zip(fam, receipts, strict=True) if r]
        winner: tuple[Tracked, dict[str, Any]] | None = None
        for t, r in mined:
            block = await self.rpc.request("eth_getBlockByNumber", [r["blockNumber"], False])
            if block and block.get("hash") == r["blockHash"]:
                winner = (t, r)
        for t in fam:  # included before, not in a canonical block now: reorged, pending again
            if t.state is TxState.INCLUDED and (
                winner is None or winner[0] is not t or winner[1]["blockHash"] != t.block_hash
            ):
                out.append(self._emit(TxReorged(self.location, t.tx_hash, t.block_number or 0)))
                t.state, t.block_number, t.block_hash, t.since, t.missing = TxState.PENDING, None, None, self.clock(), 0
        if winner is not None:
            t, r = winner
            number, bhash = hex_int(r["blockNumber"]), str(r["blockHash"])
            if t.state is TxState.PENDING:
                out.append(self._emit(TxMined(self.location, t.tx_hash, number, bhash)))
                t.state, t.block_number, t.block_hash = TxState.INCLUDED, number, bhash
            depth = self.head - number + 1
            if depth >= self.policy.confirmations:
                if hex_int(r.get("status", "0x1")) == 1:
                    out.append(self._emit(TxConfirmed(self.location, t.tx_hash, number, depth)))
                    t.state = TxState.CONFIRMED
                else:
                    out.append(self._emit(TxReverted(self.location, t.tx_hash, number, None)))
                    t.state = TxState.REVERTED
                for other in fam:
                    if other is not t and other.state not in FINAL:
                        out.append(self._emit(TxReplaced(self.location, other.tx_hash, t.tx_hash)))
                        other.state = TxState.REPLACED
            return out
        return out + await self._unmined(nonce, latest, fam)

    async def _unmined(self, nonce: int, latest: int, fam: list[Tracked]) -> list[Event]:
        out: list[Event] = []
        if latest > nonce:
            # The nonce is used and none of this family has a receipt. A node can count the nonce before it serves
            # the receipt (anvil commits state first), so this must hold for several polls before it means that
            # another transaction used the nonce.
            for t in fam:
                t.missing += 1
            if all(t.missing >= self.policy.missing_polls_before_drop for t in fam):
                for t in fam:
                    out.append(self._emit(TxDropped(self.location, t.tx_hash, "nonce used by another transaction")))
                    t.state = TxState.DROPPED
            return out
        seen = await self.rpc.batch([("eth_getTransactionByHash", [t.tx_hash]) for t in fam])
        for t, s in zip(fam, seen, strict=True):
            t.missing = 0 if s else t.missing + 1
        if all(t.missing >= self.policy.missing_polls_before_drop for t in fam):
            for t in fam:
                out += await self._dropped(t)
            return out
        return out + await self._maybe_replace(fam)

    async def _maybe_replace(self, fam: list[Tracked]) -> list[Event]:
        """Speed the family up when its latest member has waited ``replace_after_s``: the replacement is journaled
        (under the original's intent) before its bytes leave; a node's refusal (underpriced, or the nonce already
        used: the original was mined meanwhile) drops it at once, the family goes on as it was."""
        after = self.policy.replace_after_s
        live = [t for t in fam if t.state is TxState.PENDING and t.signed is not None]
        if self.replacer is None or after is None or not live:
            return []
        members = self.family(live[0].sender, live[0].nonce)
        if len(members) > self.policy.max_replacements or self.clock() - max(m.since for m in members) < after:
            return []
        newest = max(live, key=lambda t: (t.signed.fees.worst_case_per_gas() if t.signed else 0, t.since))  # the
        # dearest is the latest (each bump is dearer): after a restart every adopted member has the same ``since``
        replacement = await self.replacer(newest)
        if replacement is None:  # the cap: wait as it is, ask again after another period
            newest.since = self.clock()
            return []
        r = self.track(replacement, intent_id=newest.intent_id, record=False)
        r.first_fee = newest.first_fee
        out: list[Event] = [self._emit(TxBroadcast(self.location, r.tx_hash, r.sender, r.nonce, r.intent_id,
                                                   raw=_hex(replacement.raw)))]  # fmt: skip
        self.crash("replace")
        refused = await self._send_replacement(replacement.raw)
        if refused is not None:
            out.append(self._emit(TxDropped(self.location, r.tx_hash, f"replacement refused: {refused}")))
            r.state = TxState.DROPPED
        return out

    async def _send_replacement(self, raw: bytes) -> str | None:
        """Send a replacement's bytes: the node's reason when it refused them for good, else None (accepted, or no
        answer: the next poll finds it by hash or not)."""
        try:
            await self.rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            reason = (exc.reason or str(exc)).lower()
            return next((r for r in REFUSALS if r in reason), None)
        except (Ambiguous, Retryable):
            return None
        return None

    async def _dropped(self, t: Tracked) -> list[Event]:
        out: list[Event] = [self._emit(TxDropped(self.location, t.tx_hash, "in no mempool and not mined"))]
        if self.policy.resend_dropped and t.raw is not None and t.resends < self.policy.max_resends:
            t.resends += 1
            out.append(self._emit(TxBroadcast(self.location, t.tx_hash, t.sender, t.nonce, None)))
            t.missing, t.since = 0, self.clock()
            await self._send(t.raw)
        else:
            t.state = TxState.DROPPED
        return out

    async def _send(self, raw: bytes) -> None:
        with contextlib.suppress(RpcError):  # "already known" or a conflict: the next poll reads the chain's truth
            await self.rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])

    def _emit(self, event: Event) -> Event:
        self.journal.append(event)
        return event

    # --- following the chain -----------------------------------------------------------------------------
    async def follow(self, ws_url: str | None, stop: asyncio.Event, *, poll_interval_s: float = 1.0) -> None:
        """The service loop: one poll per new head (WebSocket subscription where available, polling otherwise),
        plus one on a timer so a speed-up is not late when no block comes."""
        from fillpath.chains.heads import heads

        async def on_heads() -> None:
            async for _head, _how in heads(self.rpc, ws_url, poll_interval_s=poll_interval_s):
                await self.poll()
                if stop.is_set():
                    return

        task = asyncio.create_task(on_heads())
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(poll_interval_s, 1.0))
                if not stop.is_set():
                    await self.poll()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- waiting -----------------------------------------------------------------------------------------
    async def wait_final(self, hashes: list[str], *, timeout_s: float, interval_s: float = 0.2) -> dict[str, TxState]:
        """Poll until every family of ``hashes`` is final or ``timeout_s`` passes (then states stay as they are:
        not final means *unknown*, never failed)."""
        deadline = self.clock() + timeout_s
        while True:
            try:
                await self.poll()
            except Retryable:  # the node did not answer this time (a timeout, a 5xx): ask again, the bytes are out
                if self.clock() >= deadline:
                    raise
            states = {h: self.txs[h].state for h in hashes}
            if all(s in FINAL for s in states.values()) or self.clock() >= deadline:
                return states
            await asyncio.sleep(interval_s)


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()
