"""The limiter: windows, execution priority, Retry-After and bans; rules read from exchangeInfo."""

from __future__ import annotations

import asyncio
import time

import pytest

from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.ratelimit import Cost, LimitKind, Priority, RateLimiter, RateLimitRule
from fillpath.model.errors import InvalidInput

MD = Cost(1, 0, Priority.MARKET_DATA)
ORDER = Cost(1, 1, Priority.EXECUTION)


async def test_fast_path_until_the_window_is_full() -> None:
    lim = RateLimiter([RateLimitRule(LimitKind.REQUEST_WEIGHT, 0.3, 3)])
    started = time.monotonic()
    for _ in range(3):
        await lim.acquire(MD)
    assert lim.waits == 0
    await lim.acquire(MD)
    assert lim.waits == 1
    assert 0.25 < time.monotonic() - started < 0.6


async def test_an_order_jumps_the_market_data_queue() -> None:
    lim = RateLimiter([RateLimitRule(LimitKind.REQUEST_WEIGHT, 0.2, 2)])
    await lim.acquire(MD)
    await lim.acquire(MD)  # window full
    granted: list[str] = []

    async def take(name: str, cost: Cost) -> None:
        await lim.acquire(cost)
        granted.append(name)

    tasks = [asyncio.ensure_future(take(f"md{i}", MD)) for i in range(3)]
    await asyncio.sleep(0.01)
    tasks.append(asyncio.ensure_future(take("order", ORDER)))
    await asyncio.gather(*tasks)
    assert granted[0] == "order"
    assert granted[1:] == ["md0", "md1", "md2"]


async def test_orders_meter_their_own_window() -> None:
    lim = RateLimiter([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60, 1000), RateLimitRule(LimitKind.ORDERS, 0.2, 1)])
    await lim.acquire(ORDER)
    await lim.acquire(MD)  # market data does not count against ORDERS
    assert lim.waits == 0
    await lim.acquire(ORDER)
    assert lim.waits == 1


async def test_retry_after_pauses_everyone_and_a_ban_is_visible() -> None:
    lim = RateLimiter([RateLimitRule(LimitKind.REQUEST_WEIGHT, 60, 1000)])
    lim.retry_after(0.2)
    started = time.monotonic()
    await lim.acquire(ORDER)
    assert time.monotonic() - started >= 0.19
    lim.ban(0.1)
    assert lim.banned
    await asyncio.sleep(0.11)
    assert not lim.banned


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    lim = RateLimiter([RateLimitRule(LimitKind.REQUEST_WEIGHT, 0.2, 1)])
    await lim.acquire(MD)
    waiting = asyncio.ensure_future(lim.acquire(MD))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.wait_for(lim.acquire(ORDER), 1)


def test_rules_from_exchange_info() -> None:
    info = {
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        ]
    }
    assert BinanceDialect().rate_limits(info) == (
        RateLimitRule(LimitKind.REQUEST_WEIGHT, 60.0, 6000),
        RateLimitRule(LimitKind.ORDERS, 10.0, 100),
    )
    assert BinanceDialect().rate_limits({}) == BinanceDialect.rules


def test_a_cost_larger_than_the_window_is_an_error() -> None:
    lim = RateLimiter([RateLimitRule(LimitKind.REQUEST_WEIGHT, 1, 10)])
    with pytest.raises(InvalidInput):
        asyncio.run(lim.acquire(Cost(11)))
