"""Nonces per (chain, address): contiguous under concurrency, durable before use, resynced with the chain.

``allocate`` records ``NonceAllocated`` in the journal *before* it hands a nonce out, so a crash can never make
fillpath reuse one. A nonce that was allocated but never reached the chain (the process died between the two)
is a gap: every later transaction from that address is stuck behind it. ``gaps`` finds such nonces by
comparing the allocations with the chain's pending count, and ``fill_gaps`` sends a zero-value self-transfer
at each, which is what a cancel is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.model.errors import Conflict
from fillpath.model.events import NonceAllocated
from fillpath.model.ports import NonceBook

CONFLICT_RETRIES = 8
"""How often a writer takes the next nonce after losing one to another process before giving up."""


class NonceAllocator:
    def __init__(self, rpc: RpcClient, location: str, address: str, book: NonceBook) -> None:
        self.rpc = rpc
        self.location = location
        self.address = address
        self.book = book
        self._lock = asyncio.Lock()
        self._next: int | None = None

    async def sync(self) -> int:
        """Resync with the chain: the next nonce is the larger of the chain's pending count and our book's."""
        pending = hex_int(await self.rpc.request("eth_getTransactionCount", [self.address, "pending"]))
        async with self._lock:
            booked = self.book.next_nonce(self.location, self.address) or 0
            self._next = max(pending, booked, self._next or 0)
            return self._next

    def _take(self) -> int:
        """The next free nonce: ours, or past the book's when another process on this account took some (the
        store's projection holds every writer's allocations once it has appended or refreshed)."""
        assert self._next is not None
        nonce = max(self._next, self.book.next_nonce(self.location, self.address) or 0)
        self._next = nonce + 1
        return nonce

    async def allocate(self) -> int:
        if self._next is None:
            await self.sync()
        async with self._lock:
            for _ in range(CONFLICT_RETRIES):
                nonce = self._take()
                try:
                    self.book.append(NonceAllocated(venue=self.location, address=self.address, nonce=nonce))
                except Conflict:  # another writer took it first; the book now knows: take the next
                    continue
                return nonce
            raise Conflict(f"{self.location}: no nonce of {self.address} after {CONFLICT_RETRIES} tries")

    async def reserve(self) -> tuple[int, NonceAllocated]:
        """The next nonce and its ``NonceAllocated`` record, *not yet journaled*: the caller commits the record in
        the same journal transaction as the rest of what it records before the bytes leave (one durable write
        instead of two on the hot path). Until that commit nothing may be sent at this nonce."""
        if self._next is None:
            await self.sync()
        async with self._lock:
            nonce = self._take()
            return nonce, NonceAllocated(venue=self.location, address=self.address, nonce=nonce)

    @property
    def synced(self) -> bool:
        return self._next is not None

    def reserve_now(self) -> tuple[int, NonceAllocated]:
        """:meth:`reserve` without an await, for the hot path: the allocator must have been synced on the cold path.
        Nothing runs between reading and advancing the counter (one event loop), so no lock is needed."""
        if self._next is None:
            raise RuntimeError(f"{self.location}: the nonce allocator is not synced; call sync() first")
        nonce = self._take()
        return nonce, NonceAllocated(venue=self.location, address=self.address, nonce=nonce)

    def release(self, nonce: int) -> None:
        """Hand back a reserved nonce whose record was never committed (the commit failed): nothing was sent at it,
        so the next transaction takes it instead of leaving a gap the chain would wait on."""
        if self._next == nonce + 1:
            self._next = nonce

    async def gaps(self) -> list[int]:
        """Allocated nonces the chain has not seen, below the highest one it has or we handed out.

        Only meaningful when no allocation is on its way to the chain right now (at start, or under the lock
        of the component that sends).
        """
        pending = hex_int(await self.rpc.request("eth_getTransactionCount", [self.address, "pending"]))
        booked = self.book.next_nonce(self.location, self.address) or 0
        return list(range(pending, booked))

    async def fill_gaps(self, send_noop: Callable[[int], Awaitable[str]]) -> list[tuple[int, str]]:
        """Send ``send_noop(nonce)`` (a zero-value self-transfer) for every gap; returns (nonce, tx hash)."""
        return [(n, await send_noop(n)) for n in await self.gaps()]
