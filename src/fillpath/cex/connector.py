"""An exchange connector over ccxt: markets, books, balances, orders and trades, as our reports.

ccxt is untyped; every call to it goes through :meth:`CcxtConnector._call`, which spends the request's
weight on our :class:`~fillpath.cex.ratelimit.RateLimiter` first (ccxt's own limiter is switched off),
and turns ccxt's exceptions into fillpath's error tiers:

- at submit, anything that may have reached the venue (timeout, dropped connection, 5xx, throttled, banned) is
  ``Ambiguous`` — the order may live; ask by client order id, never resend under a new one;
- a refusal the venue gave with a reason is ``Rejected`` (``reason="duplicate"`` when the client order id
  is already taken, which is what makes resubmitting idempotent);
- a throttle (429) pauses the limiter for the venue's Retry-After (or the dialect's back-off where the venue
  names none); a ban (where the venue has one) bans the scope and records ``VenueHalted`` once; while banned
  nothing is sent (``Halted``).

Venue quirks (raw method names, parameters, shapes, status words, codes, weights) live in the dialect
(:class:`fillpath.cex.dialect.Dialect`); this module sees endpoints and reports, and reads the dialect's declared
gaps (:class:`~fillpath.cex.dialect.Gap`) where a venue does less.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import ccxt

from fillpath.cex.dialect import Dialect, Endpoint, Gap
from fillpath.cex.markets import Market, order_book_venue
from fillpath.cex.ratelimit import RateLimiter
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import Ambiguous, FillpathError, Halted, InvalidInput, Rejected, Retryable
from fillpath.model.events import VenueHalted, VenueResumed
from fillpath.model.ports import Journal
from fillpath.model.reports import BalanceReport, FillReport, OpenOrderReport, OrderStatusReport, TradeReport


class OrderVenue(Protocol):
    """What the order driver needs from a connector."""

    location: str

    def market(self, symbol: str) -> Market: ...

    async def submit(self, cmd: SubmitOrder) -> SubmitReply: ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderStatusReport | None: ...

    async def fetch_fills(
        self, symbol: str, client_order_id: str, venue_order_id: str | None = None, since_ms: int | None = None
    ) -> list[FillReport]: ...

    async def cancel(self, symbol: str, client_order_id: str) -> OrderStatusReport | None: ...


@dataclass(frozen=True, slots=True)
class SubmitReply:
    report: OrderStatusReport
    fills: tuple[FillReport, ...]


class _NotFound(Exception):
    """The venue says the order does not exist (internal: the public methods return None)."""


READ_ATTEMPTS = 4
MARKETS_MAX_AGE_S = 300.0


class CcxtConnector:
    """One account on one exchange. Satisfies ``BalanceSource`` (``location`` and ``balances()``)."""

    def __init__(
        self,
        exchange: Any,
        *,
        location: str,
        dialect: Dialect,
        limiter: RateLimiter | None = None,
        journal: Journal | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.exchange = exchange
        self.location = location
        self.account_id: str | None = None
        """The account's id in the last balances reply (``Dialect.account_id``): its identity for reconciliation."""
        self.balances_sent_ms: int | None = None
        """Local time the last balances request left: the point external flows are looked for after."""
        self.on_throttled: Callable[[str, str], None] | None = None
        self.dialect = dialect
        self.limiter = limiter if limiter is not None else RateLimiter(self.dialect.rules)
        self.journal = journal
        self._clock_ns = clock_ns
        self._markets: dict[str, Market] = {}
        self._markets_at_ns = 0
        self._by_venue_symbol: dict[str, Market] = {}
        self._taker_fee: Decimal | None = None
        self._order_cids: dict[str, str] = {}
        self._halted = False
        exchange.enableRateLimit = False  # ours meters the scope; two limiters would double-count
        exchange.enableLastResponseHeaders = True

    # --- plumbing -------------------------------------------------------------------------------------

    async def _call(self, endpoint: Endpoint, params: Mapping[str, Any], *, depth: int = 100) -> Any:
        """One request. A read refused for the rate (429) or a network error is repeated (reads are safe to
        repeat) after the venue's Retry-After, up to ``READ_ATTEMPTS`` times; an order request never is."""
        attempt = 1
        while True:
            try:
                return await self._call_once(endpoint, params, depth=depth)
            except Retryable as exc:
                if endpoint is Endpoint.NEW_ORDER or attempt >= READ_ATTEMPTS:
                    raise
                attempt += 1
                await asyncio.sleep(min(exc.retry_after or 0.2, 5.0))

    async def _call_once(self, endpoint: Endpoint, params: Mapping[str, Any], *, depth: int) -> Any:
        submit = endpoint is Endpoint.NEW_ORDER
        if self.limiter.banned:
            raise Halted(f"{self.location} has banned us; nothing is sent until the ban ends")
        await self.limiter.acquire(self.dialect.cost(endpoint, depth=depth))
        try:
            result = await getattr(self.exchange, self.dialect.method(endpoint))(dict(params))
        except (ccxt.DDoSProtection, ccxt.RateLimitExceeded) as exc:
            raise self._throttled(exc, submit) from exc
        except ccxt.OrderNotFound as exc:
            raise _NotFound(str(exc)) from exc
        except ccxt.InvalidNonce as exc:  # a timestamp refusal: checked before anything else, never placed
            raise Rejected(str(exc), reason="timestamp", venue=self.location) from exc
        except ccxt.NetworkError as exc:  # timeouts, dropped connections, 5xx
            if submit:
                raise Ambiguous(f"{self.location}: {type(exc).__name__}: {exc}") from exc
            raise Retryable(f"{self.location}: {type(exc).__name__}: {exc}") from exc
        except (ccxt.InvalidOrder, ccxt.BadRequest, ccxt.InsufficientFunds, ccxt.OperationRejected) as exc:
            message = str(exc)
            code = self.dialect.error_code(message)
            if not submit and self.dialect.is_not_found(message):
                raise _NotFound(message) from exc
            reason = "duplicate" if self.dialect.is_duplicate(message) else f"{code}" if code else type(exc).__name__
            raise Rejected(message, reason=reason, venue=self.location) from exc
        except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:  # refused before the order is read
            raise Rejected(str(exc), reason="auth", venue=self.location) from exc
        except ccxt.BaseError as exc:
            if submit:
                raise Ambiguous(f"{self.location}: {type(exc).__name__}: {exc}") from exc
            raise Retryable(str(exc)) from exc
        if self._halted:
            self._halted = False
            self._record(VenueResumed(self.location, "requests accepted again after the ban"))
        return result

    def _throttled(self, exc: Exception, submit: bool) -> FillpathError:
        message = str(exc)
        if self.on_throttled is not None:  # venue health counts it (a 429 is not a journal event)
            self.on_throttled(self.location, message[:200])
        banned = self.dialect.is_ban(message)
        headers = getattr(self.exchange, "last_response_headers", None)
        wait = self.dialect.retry_after(headers, message, self._clock_ns() // 1_000_000)
        if banned:
            self.limiter.ban(wait if wait is not None else 60.0)
            if not self._halted:
                self._halted = True
                self._record(VenueHalted(self.location, f"banned for {wait} s: {message[:200]}"))
        else:
            self.limiter.retry_after(wait if wait is not None else self.dialect.default_backoff_s)
        if submit:
            return Ambiguous(f"{self.location} throttled the order request: {message[:200]}")
        if banned:
            return Halted(f"{self.location} banned us: {message[:200]}")
        return Retryable(message[:200], retry_after=wait)

    def _record(self, event: VenueHalted | VenueResumed) -> None:
        if self.journal is not None:
            self.journal.append(event, recv_ns=self._clock_ns())

    # --- markets --------------------------------------------------------------------------------------

    async def ensure_markets(self, max_age_s: float = MARKETS_MAX_AGE_S) -> Mapping[str, Market]:
        """The markets, loaded once and again only when older than ``max_age_s`` (filters change rarely; books
        are read on their own): a snapshot or a command does not pay exchangeInfo and account every time."""
        if not self._markets or self._clock_ns() - self._markets_at_ns > max_age_s * 1e9:
            await self.load_markets()
        return dict(self._markets)

    async def load_markets(self) -> Mapping[str, Market]:
        """ccxt's markets (spot) as :class:`Market`, the venue's rate limits, and our taker fee."""
        await self.limiter.acquire(self.dialect.cost(Endpoint.MARKETS))
        try:
            raw = await self.exchange.load_markets()
        except ccxt.BaseError as exc:  # unreachable or refusing: a venue failure, named, not a crash
            raise Retryable(f"{self.location}: cannot load its markets: {type(exc).__name__}: {exc}") from exc
        if Gap.RATE_LIMITS_NOT_PUBLISHED not in self.dialect.gaps:
            info = await self._call(Endpoint.MARKETS, self.dialect.params(Endpoint.MARKETS))
            self.limiter.set_rules(self.dialect.rate_limits(info))
        markets = [self.dialect.market(m, self.location) for m in raw.values() if m.get("spot")]
        self._markets = {m.symbol: m for m in markets}
        self._markets_at_ns = self._clock_ns()
        self._by_venue_symbol = {m.venue_symbol: m for m in markets}
        if self.exchange.apiKey:
            fees = await self._call(Endpoint.FEES, self.dialect.params(Endpoint.FEES))
            self._taker_fee = self.dialect.taker_fee(fees)
        return dict(self._markets)

    def market(self, symbol: str) -> Market:
        found = self._markets.get(symbol) or self._by_venue_symbol.get(symbol)
        if found is None:
            known = ", ".join(sorted(self._markets)[:8]) or "none loaded (call load_markets first)"
            raise InvalidInput("symbol", f"{symbol!r} is not a market on {self.location}", f"known: {known}")
        return found

    @property
    def taker_fee(self) -> Decimal:
        return self._taker_fee if self._taker_fee is not None else self.dialect.default_taker_fee

    async def order_book(self, symbol: str, depth: int = 100) -> dict[str, Any]:
        """The ``order_book`` snapshot venue (SNAPSHOT.md), from the venue's depth strings."""
        market = self.market(symbol)
        raw = await self._call(Endpoint.DEPTH, self.dialect.depth_params(market, depth), depth=depth)
        bids, asks = self.dialect.depth(raw)
        return order_book_venue(market, self.taker_fee, bids, asks, depth=depth)

    async def server_time_ms(self) -> int:
        raw = await self._call(Endpoint.TIME, self.dialect.params(Endpoint.TIME))
        return self.dialect.time_ms(raw)

    # --- balances (BalanceSource) ---------------------------------------------------------------------

    async def balances(self) -> list[BalanceReport]:
        sent_ms = time.time_ns() // 1_000_000
        raw = await self._call(Endpoint.BALANCES, self.dialect.params(Endpoint.BALANCES))
        self.account_id, self.balances_sent_ms = self.dialect.account_id(raw), sent_ms
        return self.dialect.balances(raw, self.location)

    async def identity(self) -> str | None:
        """The account's id: from the last balances reply, else asked for (``Endpoint.ACCOUNT``, once per call)."""
        if self.account_id is None:
            raw = await self._call(Endpoint.ACCOUNT, self.dialect.params(Endpoint.ACCOUNT))
            self.account_id = self.dialect.account_id(raw)
        return self.account_id

    # --- orders ---------------------------------------------------------------------------------------

    def validate(self, cmd: SubmitOrder) -> Market:
        if cmd.venue != self.location:
            raise InvalidInput("SubmitOrder.venue", f"{cmd.venue!r} is not {self.location!r}")
        market = self.market(cmd.symbol)
        market.check_order(cmd.qty, cmd.limit_price)
        if not self.dialect.client_id.match(cmd.client_order_id):
            raise InvalidInput(
                "client_order_id", f"{cmd.client_order_id!r} is not an id {self.location} accepts",
                f"match {self.dialect.client_id.pattern} (cex.client_ids makes such ids)",
            )  # fmt: skip
        return market

    async def submit(self, cmd: SubmitOrder) -> SubmitReply:
        market = self.validate(cmd)
        raw = await self._call(Endpoint.NEW_ORDER, self.dialect.new_order_params(cmd, market))
        report, fills = self.dialect.placed(raw, cmd, self.location)
        if report.venue_order_id is not None:
            self._order_cids[report.venue_order_id] = report.client_order_id
        return SubmitReply(report, tuple(fills))

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderStatusReport | None:
        """The order by our client id; None when the venue does not know it."""
        params = self.dialect.order_ref(self.market(symbol), client_order_id)
        try:
            raw = await self._call(Endpoint.QUERY_ORDER, params)
        except _NotFound:
            return None
        report = self.dialect.order(raw, self.location)
        if report.venue_order_id is not None:
            self._order_cids[report.venue_order_id] = report.client_order_id
        return report

    async def cancel(self, symbol: str, client_order_id: str) -> OrderStatusReport | None:
        """Cancel by client id; the venue's word on the order, or None when it does not know it (or no longer
        works it). Where the cancel reply is only an acknowledgement (``Gap.CANCEL_ACK_ONLY``), the order is asked
        for after it."""
        params = self.dialect.order_ref(self.market(symbol), client_order_id)
        try:
            raw = await self._call(Endpoint.CANCEL_ORDER, params)
        except _NotFound:
            return None
        report = self.dialect.canceled(raw, self.location)
        return report if report is not None else await self.fetch_order(symbol, client_order_id)

    async def fetch_fills(
        self, symbol: str, client_order_id: str, venue_order_id: str | None = None, since_ms: int | None = None
    ) -> list[FillReport]:
        """Our trades for one order. Where a venue's trades name its own order id only, without that id we list
        trades since ``since_ms`` and learn each unfamiliar order's client id by asking for that order."""
        market = self.market(symbol)
        params = self.dialect.trades_params(market, venue_order_id, since_ms)
        raw_trades = self.dialect.rows(await self._call(Endpoint.MY_TRADES, params))
        out: list[FillReport] = []
        for raw in raw_trades:
            oid = self.dialect.trade_order_id(raw)
            named = self.dialect.trade_client_id(raw)
            if named is not None:
                cid: str | None = named
            else:
                cid = client_order_id if oid == venue_order_id else await self._cid_of(market, oid)
            if cid == client_order_id:
                out.append(self.dialect.trade(raw, cid, self.location))
        return out

    # --- what the account holds at the venue (reconciliation) -------------------------------------------

    async def open_orders(self) -> list[OpenOrderReport]:
        """Every order the venue lists as open on this account, ours or not, in one request."""
        raw = await self._call(Endpoint.OPEN_ORDERS, self.dialect.params(Endpoint.OPEN_ORDERS))
        out = []
        for o in self.dialect.rows(raw):
            venue_symbol = self.dialect.open_order_symbol(o)
            market = self._by_venue_symbol.get(venue_symbol)
            out.append(self.dialect.open_order(o, self.location, market.symbol if market else venue_symbol))
        return out

    async def trades(self, symbol: str, since_ms: int | None, *, page: int = 1000) -> list[TradeReport]:
        """The account's trades on ``symbol`` since ``since_ms``: every page, the later ones by trade id."""
        market = self.market(symbol)
        page = min(page, self.dialect.max_page)
        out: list[TradeReport] = []
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            params = self.dialect.trades_page_params(market, since_ms, cursor, page)
            rows = self.dialect.rows(await self._call(Endpoint.TRADE_HISTORY, params))
            fresh = [t for t in (self.dialect.venue_trade(r, self.location, market.symbol) for r in rows)
                     if t.trade_id not in seen]  # fmt: skip
            out += fresh
            seen.update(t.trade_id for t in fresh)
            if len(rows) < page or not fresh:
                return out
            cursor = self.dialect.page_cursor(rows)

    async def _cid_of(self, market: Market, venue_order_id: str) -> str | None:
        if venue_order_id not in self._order_cids:
            params = self.dialect.order_by_id_params(market, venue_order_id)
            try:
                raw = await self._call(Endpoint.QUERY_ORDER, params)
            except _NotFound:
                return None
            self._order_cids[venue_order_id] = self.dialect.order(raw, self.location).client_order_id
        return self._order_cids[venue_order_id]

    async def close(self) -> None:
        await self.limiter.close()
        await self.exchange.close()
