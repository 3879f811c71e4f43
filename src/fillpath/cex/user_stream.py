"""The user-data stream through ccxt.pro, as reports: order updates (with their trades) and balances.

ccxt.pro keeps the venue's raw message (an order update, a balance update) in each result's ``info``; the
dialect reads the venue's strings from there, never ccxt's floats. When the stream drops, the loop says so
(``on_gap``) so the caller can poll what it may have missed, and watches again (ccxt.pro reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt

from fillpath.cex.dialect import Dialect
from fillpath.model.errors import FillpathError
from fillpath.model.reports import BalanceReport, FillReport, OrderStatusReport

OnOrder = Callable[[OrderStatusReport, FillReport | None], Awaitable[None]]
OnBalances = Callable[[list[BalanceReport]], Awaitable[None]]
OnGap = Callable[[], Awaitable[None]]


class UserStream:
    def __init__(self, pro_exchange: Any, *, location: str, dialect: Dialect) -> None:
        self.exchange = pro_exchange
        self.location = location
        self.dialect = dialect
        self.gaps = 0

    async def _loop(self, watch: Callable[[], Awaitable[Any]], handle: Callable[[Any], Awaitable[None]],
                    on_gap: OnGap, stop: asyncio.Event) -> None:  # fmt: skip
        while not stop.is_set():
            try:
                result = await watch()
            except (ccxt.NetworkError, ccxt.ExchangeError):
                self.gaps += 1
                await on_gap()
                await asyncio.sleep(0.05)
                continue
            try:
                await handle(result)
            except FillpathError:  # a REST follow-up failed: the next gap or poll catches up
                self.gaps += 1

    async def watch_balances(self, stop: asyncio.Event, *, on_balances: OnBalances, on_gap: OnGap) -> None:
        """Until ``stop``: balance updates only (what reconciliation compares with the REST figures)."""
        task = asyncio.ensure_future(self._loop(self.exchange.watch_balance, self._balances(on_balances), on_gap, stop))
        try:
            await stop.wait()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _balances(self, on_balances: OnBalances) -> Callable[[Any], Awaitable[None]]:
        async def handle(result: dict[str, Any]) -> None:
            reports = self.dialect.stream_balances(result.get("info") or {}, self.location)
            if reports is not None:
                await on_balances(reports)

        return handle

    async def run(
        self, symbol: str | None, stop: asyncio.Event, *, on_order: OnOrder, on_balances: OnBalances, on_gap: OnGap
    ) -> None:
        """Until ``stop``: order updates for ``symbol`` (every symbol if None), and balance updates."""

        async def orders(result: list[dict[str, Any]]) -> None:
            for o in result:
                update = self.dialect.stream_order(o.get("info") or {}, self.location)
                if update is not None:
                    await on_order(*update)

        tasks = [
            asyncio.ensure_future(self._loop(lambda: self.exchange.watch_orders(symbol), orders, on_gap, stop)),
            asyncio.ensure_future(self._loop(self.exchange.watch_balance, self._balances(on_balances), on_gap, stop)),
        ]
        try:
            await stop.wait()
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
