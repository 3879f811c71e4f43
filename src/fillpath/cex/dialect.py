"""The seam between the generic connector and one venue's API: a :class:`Dialect`.

The connector (``cex/connector.py``), the order driver and the user stream speak only in the neutral terms of
this module: an :class:`Endpoint` to call, a :class:`~fillpath.cex.ratelimit.Cost` to meter, and reports to
read back. Everything a venue spells its own way lives in its dialect, one package per venue (``cex/<ccxt
id>/``): the raw ccxt method behind each endpoint, request parameters, response shapes, status words, error
codes (not-found, duplicate, throttled, banned), the client-id alphabet, the published rate limits and fees.

What a venue does not do at all is declared, not hidden: :class:`Gap` names such differences (no ban status,
no Retry-After, an acknowledgement without the order's state) and both the connector and the conformance suite
(``tests/cex/conformance.py``) read them, in the spirit of web3.py's ``not_implemented`` markers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from fillpath.cex.markets import Level, Market
from fillpath.cex.ratelimit import Cost, RateLimitRule
from fillpath.model.commands import SubmitOrder
from fillpath.model.reports import BalanceReport, FillReport, OpenOrderReport, OrderStatusReport, TradeReport


class Endpoint(StrEnum):
    """What the connector asks of a venue, whatever the venue calls it."""

    MARKETS = "markets"
    """The market list the venue publishes (and, where it does, its rate limits)."""
    TIME = "time"
    DEPTH = "depth"
    BALANCES = "balances"
    FEES = "fees"
    NEW_ORDER = "new_order"
    QUERY_ORDER = "query_order"
    CANCEL_ORDER = "cancel_order"
    MY_TRADES = "my_trades"
    """The account's recent trades (the hot path: one order's fills)."""
    TRADE_HISTORY = "trade_history"
    """The account's trades, paged back in time (reconciliation)."""
    OPEN_ORDERS = "open_orders"
    ACCOUNT = "account"
    """The account itself: its id (reconciliation's identity for the venue) where the balances reply has none."""


class Gap(StrEnum):
    """Something a venue's API does not do, which the connector and the conformance suite must not assume."""

    NO_BAN = "no_ban"
    """Throttling is only ever "too many requests": there is no ban status that names its end."""
    NO_RETRY_AFTER = "no_retry_after"
    """A throttled reply does not say how long to wait: back off by the dialect's ``default_backoff_s``."""
    ACK_ONLY = "ack_only"
    """The placement reply acknowledges the order (its id) without its state or fills: they come from a query or
    the stream."""
    CANCEL_ACK_ONLY = "cancel_ack_only"
    """The cancel reply acknowledges the request without the order's state: the connector asks for it."""
    RATE_LIMITS_NOT_PUBLISHED = "rate_limits_not_published"
    """No endpoint lists the limits: the dialect's published figures are used."""


class Dialect(Protocol):
    """One venue's API in the connector's terms. Implementations are stateless; one instance may serve many
    connectors."""

    name: str
    """The ccxt id (``exchange.id``) of the class this dialect drives."""
    default_taker_fee: Decimal
    rules: tuple[RateLimitRule, ...]
    """The published limits, until the venue says otherwise."""
    default_backoff_s: float
    """How long to pause a throttled scope when the venue names no time."""
    client_id: re.Pattern[str]
    """The client order ids the venue accepts (checked before sending)."""
    max_page: int
    """The most rows one page of the trade list holds."""
    gaps: frozenset[Gap]

    # --- requests -----------------------------------------------------------------------------------------

    def method(self, endpoint: Endpoint) -> str:
        """ccxt's raw (implicit) method for ``endpoint``, e.g. ``private_post_order``."""
        ...

    def cost(self, endpoint: Endpoint, *, depth: int = 100) -> Cost: ...

    def params(self, endpoint: Endpoint) -> dict[str, Any]:
        """Fixed parameters of a call that takes no market (the market list, balances, fees, open orders)."""
        ...

    def rows(self, raw: Any) -> list[Mapping[str, Any]]:
        """The list a list endpoint returned (unwrapped from the venue's envelope, if it has one)."""
        ...

    # --- markets, time, books, fees ------------------------------------------------------------------------

    def rate_limits(self, markets_reply: Mapping[str, Any]) -> tuple[RateLimitRule, ...]: ...

    def market(self, ccxt_market: Mapping[str, Any], location: str) -> Market: ...

    def time_ms(self, raw: Any) -> int: ...

    def depth_params(self, market: Market, limit: int) -> dict[str, Any]: ...

    def depth(self, raw: Any) -> tuple[list[Level], list[Level]]: ...

    def taker_fee(self, raw: Any) -> Decimal: ...

    # --- balances ------------------------------------------------------------------------------------------

    def balances(self, raw: Any, location: str) -> list[BalanceReport]:
        """Free plus locked per asset (what we own there, as the ledger counts it)."""
        ...

    def account_id(self, raw: Any) -> str | None:
        """The account's id in the balances reply (the venue's identity for reconciliation), None if it has none."""
        ...

    # --- orders --------------------------------------------------------------------------------------------

    def new_order_params(self, cmd: SubmitOrder, market: Market) -> dict[str, Any]: ...

    def placed(self, raw: Any, cmd: SubmitOrder, location: str) -> tuple[OrderStatusReport, list[FillReport]]:
        """The placement reply: the order's status (OPEN when the venue only acknowledges) and any fills in it."""
        ...

    def order_ref(self, market: Market, client_order_id: str) -> dict[str, Any]: ...

    def order_by_id_params(self, market: Market, venue_order_id: str) -> dict[str, Any]: ...

    def order(self, raw: Any, location: str) -> OrderStatusReport: ...

    def canceled(self, raw: Any, location: str) -> OrderStatusReport | None:
        """The cancel reply as the order's status, or None when the reply does not carry it."""
        ...

    def trades_params(self, market: Market, venue_order_id: str | None, since_ms: int | None) -> dict[str, Any]: ...

    def trade_order_id(self, raw: Mapping[str, Any]) -> str: ...

    def trade_client_id(self, raw: Mapping[str, Any]) -> str | None:
        """The client order id a trade names, or None when the venue's trades name only its own order id."""
        ...

    def trade(self, raw: Mapping[str, Any], client_order_id: str, location: str) -> FillReport: ...

    def open_order(self, raw: Mapping[str, Any], location: str, symbol: str) -> OpenOrderReport: ...

    def open_order_symbol(self, raw: Mapping[str, Any]) -> str:
        """The venue's symbol of one open order (the connector maps it to the unified one)."""
        ...

    def venue_trade(self, raw: Mapping[str, Any], location: str, symbol: str) -> TradeReport: ...

    def trades_page_params(
        self, market: Market, since_ms: int | None, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        """One page of the account's trades: the first from ``since_ms``, later ones from ``cursor``."""
        ...

    def page_cursor(self, rows: Sequence[Mapping[str, Any]]) -> str:
        """Where the page after ``rows`` starts (a venue pages forward or back in its own terms)."""
        ...

    # --- the user stream (the ``info`` of ccxt.pro's results) ------------------------------------------------

    def stream_order(self, info: Mapping[str, Any], location: str) -> StreamOrder | None:
        """One order update of the user stream (and its trade, if it is one); None for anything else."""
        ...

    def stream_balances(self, info: Mapping[str, Any], location: str) -> list[BalanceReport] | None:
        """A balance update of the user stream: the assets it names; None for anything else."""
        ...

    # --- errors --------------------------------------------------------------------------------------------

    def error_code(self, message: str) -> str | None:
        """The venue's error code in a ccxt error message."""
        ...

    def is_not_found(self, message: str) -> bool:
        """A refusal that means "no such order" (ccxt did not already raise ``OrderNotFound`` for it)."""
        ...

    def is_duplicate(self, message: str) -> bool:
        """The venue refused the client order id as already used (what makes resubmitting idempotent)."""
        ...

    def is_ban(self, message: str) -> bool: ...

    def retry_after(self, headers: Mapping[str, Any] | None, message: str, now_ms: int) -> float | None:
        """Seconds the venue asked us to wait, if it said."""
        ...


StreamOrder = tuple[OrderStatusReport, FillReport | None]
"""An order update of the user stream: the order's status, and the trade it reports (if it is one)."""

PointAt = Callable[[Any, str], None]
"""Re-point a ccxt exchange's every API family (REST and streams) at another origin (a simulator, a proxy)."""
