"""Binance's error replies. The simulator raises these; the server turns them into Binance's JSON."""

from __future__ import annotations


class BinanceError(Exception):
    """``{"code": code, "msg": msg}`` with the HTTP status Binance uses for it."""

    def __init__(self, code: int, msg: str, status: int = 400, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def bad_api_key_format() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", 401)


def invalid_api_key() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def invalid_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.", 400)


def outside_recv_window() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.", 400)


def filter_failure(name: str) -> BinanceError:
    return BinanceError(-1013, f"Filter failure: {name}", 400)


def insufficient_balance() -> BinanceError:
    return BinanceError(-2010, "Account has insufficient balance for requested action.", 400)


def duplicate_order() -> BinanceError:
    return BinanceError(-2010, "Duplicate order sent.", 400)


def order_does_not_exist() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.", 400)


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.", 400)


def bad_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.", 400)


def mandatory_missing(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.", 400)


def bad_param(name: str, value: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{value}'.", 400)
