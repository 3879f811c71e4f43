"""One limiter per metering scope, through real connectors on the simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connector_fixtures import LOCATION

from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.client_ids import client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.ratelimit import LimitKind, RateLimiter, RateLimitRule
from fillpath.model.commands import SubmitOrder
from fillpath.model.sides import Side


async def test_an_order_overtakes_market_data_queued_on_a_shared_limiter(make_exchange: Callable[..., Any]) -> None:
    shared = RateLimiter([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60, 10**6)])
    books = CcxtConnector(make_exchange(), location=LOCATION, limiter=shared, dialect=BinanceDialect())
    trading = CcxtConnector(make_exchange(), location=LOCATION, limiter=shared, dialect=BinanceDialect())
    await books.load_markets()
    await trading.load_markets()
    shared.set_rules([RateLimitRule(LimitKind.REQUEST_WEIGHT, 0.15, 10)])  # two depth requests per window
    done: list[str] = []

    async def book(i: int) -> None:
        await books.order_book("ETH/USDT", 5)
        done.append(f"book{i}")

    async def order() -> None:
        cmd = SubmitOrder(LOCATION, client_order_id("urgent"), "ETH/USDT", Side.BUY, Decimal("0.01"))
        await trading.submit(cmd)
        done.append("order")

    started = time.monotonic()
    tasks = [asyncio.ensure_future(book(i)) for i in range(6)]
    await asyncio.sleep(0.02)  # four book requests are queued now
    tasks.append(asyncio.ensure_future(order()))
    await asyncio.gather(*tasks)
    # first out of the queue (book2 fits in the same freed window beside it); in arrival order it would be last
    assert done.index("order") < min(done.index(f"book{i}") for i in (3, 4, 5))
    assert time.monotonic() - started >= 0.3  # and the books did wait for their windows
    await shared.close()
