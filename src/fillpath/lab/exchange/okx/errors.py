"""OKX v5's error replies, and the engine's errors in OKX's words.

Every reply is ``{"code": "...", "msg": "...", "data": [...]}``: ``"0"`` is success; a request-level failure puts
its code at the top (``50011`` too many requests, ``50113`` invalid sign, ``51603`` order does not exist); an
order operation that fails says ``"code": "1"`` and puts the reason in each item's ``sCode``/``sMsg``
(``51008`` insufficient balance, ``51016`` duplicated clOrdId, ``51400`` cancellation failed).
"""

from __future__ import annotations

from typing import Any

from fillpath.lab.exchange.errors import BinanceError


class OkxError(Exception):
    """A request-level refusal: ``{"code", "msg", "data"}`` with an HTTP status."""

    def __init__(self, code: str, msg: str, status: int = 200, *, data: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.data = data or []

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, "data": self.data}


class OperationFailed(Exception):
    """One order operation refused (an item of ``data`` with ``sCode``/``sMsg``)."""

    def __init__(self, s_code: str, s_msg: str) -> None:
        super().__init__(f"{s_code} {s_msg}")
        self.s_code = s_code
        self.s_msg = s_msg


def all_failed(items: list[dict[str, Any]]) -> OkxError:
    return OkxError("1", "All operations failed", data=items)


def empty(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty.", 400)


def param(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error", 400)


def order_does_not_exist() -> OkxError:
    return OkxError("51603", "Order does not exist")


def too_many_requests() -> OkxError:
    return OkxError("50011", "Too Many Requests", 429)


def auth(code: str, msg: str) -> OkxError:
    return OkxError(code, msg, 401)


_FILTERS = {
    "PRICE_FILTER": ("51000", "Parameter px error"),
    "LOT_SIZE": ("51121", "Order quantity must be a multiple of the lot size."),
    "NOTIONAL": ("51020", "Your order should meet or exceed the minimum order amount."),
}


def from_engine(exc: BinanceError) -> tuple[str, str]:
    """The engine's refusal (its vocabulary is Binance's codes) as OKX's ``(sCode, sMsg)``."""
    if exc.code == -2010 and "Duplicate" in exc.msg:
        return "51016", "Duplicated clOrdId"
    if exc.code == -2010 and "insufficient" in exc.msg:
        return "51008", "Order failed. Insufficient balance."
    if exc.code == -2010:
        return "51000", "Parameter ordType error"
    if exc.code == -1013:
        return _FILTERS.get(exc.msg.removeprefix("Filter failure: "), ("51000", "Parameter sz error"))
    if exc.code == -2013:
        return "51603", "Order does not exist"
    if exc.code == -2011:
        return "51400", "Order cancellation failed as the order has been filled, canceled or does not exist."
    if exc.code == -1121:
        return "51001", "Instrument ID does not exist."
    if exc.code == -1102:
        return "50014", exc.msg
    return "51000", exc.msg
