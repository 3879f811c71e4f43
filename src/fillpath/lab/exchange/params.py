"""Turning Binance request parameters (strings) into a checked new-order request, with Binance's errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from fillpath.lab.exchange import errors
from fillpath.lab.exchange.errors import BinanceError

_NUMBER = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_TYPES = frozenset({"LIMIT", "MARKET", "LIMIT_MAKER"})
_TIFS = frozenset({"GTC", "IOC", "FOK"})
_RESP_TYPES = frozenset({"ACK", "RESULT", "FULL"})


@dataclass(frozen=True, slots=True)
class NewOrder:
    symbol: str
    side: str
    type: str
    time_in_force: str
    price: Decimal | None
    quantity: Decimal | None
    quote_qty: Decimal | None
    client_order_id: str | None
    resp_type: str


def decimal_param(params: Mapping[str, str], name: str) -> Decimal | None:
    """A Binance decimal string (digits, optional fraction), or None when absent. Never via float."""
    text = params.get(name)
    if text is None or text == "":
        return None
    if not _NUMBER.match(text):
        raise errors.bad_param(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        raise errors.bad_param(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$") from None


def int_param(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    if not text.lstrip("-").isdigit():
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]+$'.")
    return int(text)


def required(params: Mapping[str, str], name: str) -> str:
    text = params.get(name)
    if not text:
        raise errors.mandatory_missing(name)
    return text


def parse_new_order(params: Mapping[str, str]) -> NewOrder:
    symbol = required(params, "symbol")
    side = required(params, "side")
    if side not in ("BUY", "SELL"):
        raise BinanceError(-1117, "Invalid side.")
    order_type = required(params, "type")
    if order_type not in _TYPES:
        raise BinanceError(-1116, "Invalid orderType.")
    tif = params.get("timeInForce", "")
    if order_type == "LIMIT":
        if not tif:
            raise errors.mandatory_missing("timeInForce")
        if tif not in _TIFS:
            raise BinanceError(-1115, "Invalid timeInForce.")
    elif order_type == "LIMIT_MAKER":
        tif = "GTC"
    elif tif:
        raise BinanceError(-1106, "Parameter 'timeInForce' sent when not required.")
    price = decimal_param(params, "price")
    quantity = decimal_param(params, "quantity")
    quote_qty = decimal_param(params, "quoteOrderQty")
    if order_type == "MARKET":
        if price is not None:
            raise BinanceError(-1106, "Parameter 'price' sent when not required.")
        if (quantity is None) == (quote_qty is None):
            raise BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
    else:
        if price is None:
            raise errors.mandatory_missing("price")
        if quantity is None:
            raise errors.mandatory_missing("quantity")
        if quote_qty is not None:
            raise BinanceError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
    client_id = params.get("newClientOrderId") or None
    if client_id is not None and not _CLIENT_ID.match(client_id):
        raise errors.bad_param("newClientOrderId", "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
    resp_type = params.get("newOrderRespType") or "FULL"
    if resp_type not in _RESP_TYPES:
        raise BinanceError(
            -1100,
            "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT, FULL'.",
        )
    return NewOrder(symbol, side, order_type, tif, price, quantity, quote_qty, client_id, resp_type)
