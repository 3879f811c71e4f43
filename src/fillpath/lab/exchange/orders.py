"""Orders and trades as the engine keeps them, and how Binance spells them in JSON."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from fillpath.lab.exchange.accounts import BalanceLine

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


def fmt(value: Decimal) -> str:
    """Binance's 8-decimal strings, widened (never rounded) when a value has more places."""
    exponent = value.normalize().as_tuple().exponent
    places = max(8, -exponent) if isinstance(exponent, int) else 8
    return f"{value:.{places}f}"


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of one order (the taker or the maker side)."""

    id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_maker: bool


@dataclass
class Order:
    """An order's live state: the engine mutates it as it fills or is cancelled."""

    order_id: int
    client_order_id: str
    api_key: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    time: int
    update_time: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)
    """What is still reserved for this order (quote for a limit buy, base for a limit sell)."""
    on_book: bool = False
    """Resting in the public book, where takers (and the moving market) can fill it."""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One change of one order, as the engine made it (``order`` is a copy taken then)."""

    order: Order
    exec_type: str
    """What happened, in the engine's words: NEW, TRADE, CANCELED, EXPIRED, TRADE_PREVENTION."""
    trade: Trade | None
    time: int

    @classmethod
    def of(cls, order: Order, exec_type: str, trade: Trade | None, time: int) -> OrderUpdate:
        return cls(replace(order), exec_type, trade, time)


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    """The balances of one account that changed in one engine step."""

    lines: tuple[BalanceLine, ...]
    time: int


UserEvent = OrderUpdate | BalanceUpdate
"""What the engine tells a key's user streams; each surface spells it in its own dialect."""


def binance_user_event(event: UserEvent) -> dict[str, Any]:
    """An engine event as Binance's user stream sends it."""
    if isinstance(event, OrderUpdate):
        return execution_report(event.order, event.exec_type, event.time, event.trade)
    return account_position(list(event.lines), event.time)


def order_json(order: Order) -> dict[str, Any]:
    """``GET /api/v3/order`` shape."""
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "cummulativeQuoteQty": fmt(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "stopPrice": fmt(Decimal(0)),
        "icebergQty": fmt(Decimal(0)),
        "time": order.time,
        "updateTime": order.update_time,
        "isWorking": True,
        "workingTime": order.time,
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def new_order_json(order: Order, fills: list[Trade], resp_type: str, transact_time: int) -> dict[str, Any]:
    """``POST /api/v3/order`` reply for ``newOrderRespType`` ACK, RESULT or FULL."""
    out: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_time,
    }
    if resp_type == "ACK":
        return out
    body = order_json(order)
    for key in ("price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status"):
        out[key] = body[key]
    out.update(
        timeInForce=order.time_in_force,
        type=order.type,
        side=order.side,
        workingTime=order.time,
        selfTradePreventionMode="EXPIRE_MAKER",
    )
    if resp_type == "FULL":
        out["fills"] = [
            {
                "price": fmt(t.price),
                "qty": fmt(t.qty),
                "commission": fmt(t.commission),
                "commissionAsset": t.commission_asset,
                "tradeId": t.id,
            }
            for t in fills
        ]
    return out


def trade_json(trade: Trade) -> dict[str, Any]:
    """``GET /api/v3/myTrades`` element."""
    return {
        "symbol": trade.symbol,
        "id": trade.id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.quote_qty),
        "commission": fmt(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time,
        "isBuyer": trade.side == "BUY",
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }


def execution_report(order: Order, exec_type: str, event_time: int, trade: Trade | None) -> dict[str, Any]:
    """The user-stream ``executionReport`` for one change of one order."""
    return {
        "e": "executionReport",
        "E": event_time,
        "s": order.symbol,
        "c": order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force,
        "q": fmt(order.orig_qty),
        "p": fmt(order.price),
        "P": fmt(Decimal(0)),
        "F": fmt(Decimal(0)),
        "g": -1,
        "C": "",
        "x": exec_type,
        "X": order.status,
        "r": "NONE",
        "i": order.order_id,
        "l": fmt(trade.qty if trade else Decimal(0)),
        "z": fmt(order.executed_qty),
        "L": fmt(trade.price if trade else Decimal(0)),
        "n": fmt(trade.commission if trade else Decimal(0)),
        "N": trade.commission_asset if trade else None,
        "T": trade.time if trade else event_time,
        "t": trade.id if trade else -1,
        "I": order.order_id * 2 + (trade.id if trade else 0),
        "w": order.is_open,
        "m": trade.is_maker if trade else False,
        "M": False,
        "O": order.time,
        "Z": fmt(order.cum_quote),
        "Y": fmt(trade.quote_qty if trade else Decimal(0)),
        "Q": fmt(order.orig_quote_qty),
        "W": order.time,
        "V": "EXPIRE_MAKER",
    }


def account_position(lines: list[BalanceLine], event_time: int) -> dict[str, Any]:
    """The user-stream ``outboundAccountPosition`` for the assets that changed."""
    return {
        "e": "outboundAccountPosition",
        "E": event_time,
        "u": event_time,
        "B": [{"a": b.asset, "f": fmt(b.free), "l": fmt(b.locked)} for b in lines],
    }
