"""What every dialect's surface of the simulator shares: one matching engine with its accounts and books, the
fault profiles and the venue clock they skew, the record of order requests, the random-walk and disconnect
timers, and the ``rate_limit`` fault's per-IP counters.

A surface (``venue.SimVenue`` for Binance, ``okx.venue.OkxVenue`` for OKX) adds its routes, its request
signing, its JSON shapes and its error replies; the engine raises its errors in one vocabulary
(``errors.BinanceError``, Binance's codes being the first) that each surface translates into its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from aiohttp import web

from fillpath.lab.exchange.config import SimConfig
from fillpath.lab.exchange.engine import Engine
from fillpath.lab.exchange.faults import Faults, VenueClock, check_setting


@dataclass(frozen=True, slots=True)
class OrderRequestRecord:
    """One order request as received, whatever became of it (the harness's ground truth)."""

    seq: int
    received_ns: int
    venue_ms: int
    kind: str
    api_key: str | None
    symbol: str | None
    side: str | None
    type: str | None
    client_order_id: str | None
    quantity: str | None
    price: str | None
    outcome: str
    code: int | None
    msg: str | None
    order_id: int | None


@dataclass(frozen=True, slots=True)
class Throttle:
    """The ``rate_limit`` fault's verdict on one request: refused for the rate, or banned until a time."""

    banned: bool
    limit: int
    retry_after_s: float
    until_ms: int
    """Venue time the ban ends (banned only)."""


@dataclass
class _RateState:
    window_start: float = 0.0
    count: int = 0
    strikes: int = 0
    banned_until: float = 0.0


class Socket(Protocol):
    async def close(self) -> bool: ...


class HubConnection(Protocol):
    @property
    def ws(self) -> Socket: ...


class Hub(Protocol):
    """What the core, the admin API and the tests reach of a surface's WebSocket hub."""

    @property
    def connections(self) -> Collection[HubConnection]: ...
    @property
    def opened(self) -> int: ...
    @property
    def dropped(self) -> int: ...

    def disconnect_all(self) -> int: ...

    def user_streams(self, api_key: str) -> int:
        """User-data subscriptions of this key live now (connections or channels, in the dialect's terms)."""
        ...


class VenueCore:
    """The shared state and timers. Subclasses set ``hub`` and build the aiohttp app (with :meth:`lifecycle`)."""

    dialect: str = ""
    hub: Hub

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.faults = Faults(config.seed)
        self.faults.set([check_setting(name, params) for name, params in config.faults.items()])
        self.clock = VenueClock(self.faults)
        self.engine = Engine(config, self.clock.now_ms)
        self.records: list[OrderRequestRecord] = []
        self.closing = asyncio.Event()
        self._rate: dict[str, _RateState] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._last_disconnect = time.monotonic()

    # -- lifecycle --------------------------------------------------------------------------------

    def lifecycle(self, app: web.Application) -> None:
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_startup(self, _app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        if self.config.walk_interval > 0:
            self._tasks.append(loop.create_task(self._walk_timer()))
        self._tasks.append(loop.create_task(self._disconnect_timer()))

    async def _on_shutdown(self, _app: web.Application) -> None:
        self.closing.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for conn in list(self.hub.connections):
            await conn.ws.close()

    async def _walk_timer(self) -> None:
        while True:
            await asyncio.sleep(self.config.walk_interval)
            self.advance(1)

    def advance(self, steps: int, symbols: list[str] | None = None) -> None:
        multiplier = int(self.faults.param("rate_limit", "burst")) if self.faults.on("rate_limit") else 1
        self.engine.walk(steps, multiplier=multiplier, symbols=symbols)

    async def _disconnect_timer(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            if not self.faults.on("stream_disconnect"):
                self._last_disconnect = time.monotonic()
                continue
            if time.monotonic() - self._last_disconnect >= self.faults.seconds("stream_disconnect", "interval"):
                self._last_disconnect = time.monotonic()
                self.hub.disconnect_all()

    # -- the rate_limit fault ---------------------------------------------------------------------

    def throttle(self, ip: str) -> Throttle | None:
        """Count one request of ``ip`` under the ``rate_limit`` fault: None when it may pass."""
        if not self.faults.on("rate_limit"):
            return None
        state = self._rate.setdefault(ip, _RateState())
        now = time.monotonic()
        limit = int(self.faults.param("rate_limit", "limit"))
        if now < state.banned_until:
            until = self.clock.now_ms() + int((state.banned_until - now) * 1000)
            return Throttle(True, limit, float(int(state.banned_until - now) + 1), until)
        if now - state.window_start >= 1.0:
            state.window_start, state.count = now, 0
        state.count += 1
        if state.count > limit:
            state.strikes += 1
            if state.strikes > int(self.faults.param("rate_limit", "ban_after")):
                state.strikes = 0
                state.banned_until = now + self.faults.seconds("rate_limit", "ban")
            return Throttle(False, limit, self.faults.seconds("rate_limit", "retry_after"), 0)
        state.strikes = 0
        return None

    # -- the record of order requests -------------------------------------------------------------

    def record(self, kind: str, api_key: str | None, outcome: str, **fields: Any) -> None:
        """One order request: ``fields`` are :class:`OrderRequestRecord`'s (symbol, side, type, client_order_id,
        quantity, price, code, msg, order_id), in the venue's own spelling."""
        blank = OrderRequestRecord(
            seq=len(self.records) + 1,
            received_ns=time.time_ns(),
            venue_ms=self.clock.now_ms(),
            kind=kind,
            api_key=api_key,
            symbol=None,
            side=None,
            type=None,
            client_order_id=None,
            quantity=None,
            price=None,
            outcome=outcome,
            code=None,
            msg=None,
            order_id=None,
        )
        self.records.append(replace(blank, **fields))

    def records_json(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.records]

    async def hang(self, request: web.Request) -> web.Response:
        """Hold the reply until ``drop_response.hang`` seconds pass (or the venue stops), then drop the
        connection: the order was taken, the client never hears so."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), self.faults.seconds("drop_response", "hang"))
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=504)
