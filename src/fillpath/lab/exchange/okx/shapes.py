"""The engine's markets, orders, trades and balances in OKX v5's JSON shapes (every number a plain string).

OKX spells a spot market ``ETH-USDT`` (``instId``); an order's state is ``live``, ``partially_filled``,
``filled`` or ``canceled`` (an IOC remainder or a self-trade prevention is a cancel there, not an expiry); its
time in force lives in ``ordType`` (``limit``, ``ioc``, ``fok``, ``post_only``, ``market``); fees are signed,
negative when charged.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fillpath.lab.exchange.accounts import BalanceLine
from fillpath.lab.exchange.config import MarketSpec
from fillpath.lab.exchange.orders import Order, Trade

STATES = {
    "NEW": "live",
    "PARTIALLY_FILLED": "partially_filled",
    "FILLED": "filled",
    "CANCELED": "canceled",
    "EXPIRED": "canceled",
    "EXPIRED_IN_MATCH": "canceled",
    "REJECTED": "canceled",
}
_TIF_TYPES = {"GTC": "limit", "IOC": "ioc", "FOK": "fok"}


def num(value: Decimal) -> str:
    """A plain decimal string, no exponent and no padding (``"0.001"``, ``"3000.5"``)."""
    return format(value.normalize(), "f") if value else "0"


def fee(value: Decimal) -> str:
    """A fee as OKX signs it: negative when charged."""
    return num(-value) if value else "0"


def inst_id(spec: MarketSpec) -> str:
    return f"{spec.base}-{spec.quote}"


def ord_type(order: Order) -> str:
    if order.type == "MARKET":
        return "market"
    if order.type == "LIMIT_MAKER":
        return "post_only"
    return _TIF_TYPES[order.time_in_force]


def instrument(spec: MarketSpec, list_time_ms: int) -> dict[str, Any]:
    """``GET /api/v5/public/instruments`` element of a spot market."""
    return {
        "instType": "SPOT",
        "instId": inst_id(spec),
        "instIdCode": zlib.crc32(inst_id(spec).encode()) % 10_000_000,
        "uly": "",
        "instFamily": "",
        "category": "1",
        "baseCcy": spec.base,
        "quoteCcy": spec.quote,
        "settleCcy": "",
        "ctVal": "",
        "ctMult": "",
        "ctValCcy": "",
        "optType": "",
        "stk": "",
        "listTime": str(list_time_ms),
        "contTdSwTime": str(list_time_ms),
        "expTime": "",
        "lever": "1",
        "tickSz": num(spec.tick),
        "lotSz": num(spec.step),
        "minSz": num(spec.min_qty),
        "ctType": "",
        "alias": "",
        "state": "live",
        "ruleType": "normal",
        "maxLmtSz": num(spec.max_qty),
        "maxMktSz": num(spec.max_qty),
        "maxLmtAmt": "20000000",
        "maxMktAmt": "1000000",
        "maxTwapSz": num(spec.max_qty),
        "maxIcebergSz": num(spec.max_qty),
        "maxTriggerSz": num(spec.max_qty),
        "maxStopSz": num(spec.max_qty),
        "auctionEndTime": "",
        "openType": "",
        "tradeQuoteCcyList": [spec.quote],
    }


def order_json(order: Order, spec: MarketSpec, trades: Sequence[Trade]) -> dict[str, Any]:
    """``GET /api/v5/trade/order`` element: cumulative fill and fee, and the last fill's details."""
    paid = sum((t.commission for t in trades), Decimal(0))
    fee_ccy = trades[-1].commission_asset if trades else (spec.base if order.side == "BUY" else spec.quote)
    last = trades[-1] if trades else None
    quote_sized = order.orig_quote_qty > 0
    state = STATES[order.status]
    return {
        "instType": "SPOT",
        "instId": inst_id(spec),
        "tgtCcy": "quote_ccy" if quote_sized else "base_ccy" if order.type == "MARKET" else "",
        "ccy": "",
        "ordId": str(order.order_id),
        "clOrdId": "" if order.client_order_id.startswith("sim") else order.client_order_id,
        "tag": "",
        "px": num(order.price) if order.type != "MARKET" else "",
        "pxUsd": "",
        "pxVol": "",
        "pxType": "",
        "sz": num(order.orig_quote_qty if quote_sized else order.orig_qty),
        "pnl": "0",
        "ordType": ord_type(order),
        "side": order.side.lower(),
        "posSide": "net",
        "tdMode": "cash",
        "accFillSz": num(order.executed_qty),
        "fillPx": num(last.price) if last else "",
        "tradeId": str(last.id) if last else "",
        "fillSz": num(last.qty) if last else "0",
        "fillTime": str(last.time) if last else "",
        "avgPx": num(order.cum_quote / order.executed_qty) if order.executed_qty else "",
        "state": state,
        "stpId": "",
        "stpMode": "cancel_maker",
        "lever": "",
        "attachAlgoClOrdId": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tpOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "slOrdPx": "",
        "attachAlgoOrds": [],
        "linkedAlgoOrd": {"algoId": ""},
        "feeCcy": fee_ccy,
        "fee": fee(paid),
        "rebateCcy": spec.quote if order.side == "BUY" else spec.base,
        "rebate": "0",
        "source": "",
        "category": "normal",
        "reduceOnly": "false",
        "isTpLimit": "false",
        "cancelSource": "" if state != "canceled" or order.status == "CANCELED" else "14",
        "cancelSourceReason": "" if state != "canceled" or order.status == "CANCELED" else "Order canceled by system",
        "quickMgnType": "",
        "algoClOrdId": "",
        "algoId": "",
        "tradeQuoteCcy": spec.quote,
        "uTime": str(order.update_time),
        "cTime": str(order.time),
    }


def order_push(
    order: Order, spec: MarketSpec, trades: Sequence[Trade], trade: Trade | None, event_time: int
) -> dict[str, Any]:
    """One element of the ``orders`` channel: the order, with the fill this update reports (if any)."""
    out = order_json(order, spec, trades)
    out.update(
        fillPx=num(trade.price) if trade else "",
        fillSz=num(trade.qty) if trade else "0",
        tradeId=str(trade.id) if trade else "",
        fillTime=str(trade.time) if trade else "",
        fillFee=fee(trade.commission) if trade else "0",
        fillFeeCcy=trade.commission_asset if trade else "",
        fillNotionalUsd="",
        execType=("M" if trade.is_maker else "T") if trade else "",
        notionalUsd="",
        amendResult="",
        reqId="",
        code="0",
        msg="",
        uTime=str(event_time),
    )
    return out


def fill_json(trade: Trade, spec: MarketSpec, client_order_id: str) -> dict[str, Any]:
    """``GET /api/v5/trade/fills`` element; ``billId`` is the cursor the pages move by."""
    return {
        "instType": "SPOT",
        "instId": inst_id(spec),
        "tradeId": str(trade.id),
        "ordId": str(trade.order_id),
        "clOrdId": "" if client_order_id.startswith("sim") else client_order_id,
        "billId": str(trade.id),
        "subType": "1" if trade.side == "BUY" else "2",
        "tag": "",
        "fillPx": num(trade.price),
        "fillSz": num(trade.qty),
        "fillIdxPx": "",
        "fillPnl": "0",
        "fillPxVol": "",
        "fillPxUsd": "",
        "fillMarkVol": "",
        "fillFwdPx": "",
        "fillMarkPx": "",
        "side": trade.side.lower(),
        "posSide": "net",
        "execType": "M" if trade.is_maker else "T",
        "feeCcy": trade.commission_asset,
        "fee": fee(trade.commission),
        "feeRate": "",
        "tradeQuoteCcy": spec.quote,
        "ts": str(trade.time),
        "fillTime": str(trade.time),
    }


def balance_detail(line: BalanceLine, time: int, offset: Decimal = Decimal(0)) -> dict[str, Any]:
    """One currency of ``GET /api/v5/account/balance`` (and of the ``account`` channel): cash = available +
    frozen in open orders. ``offset`` shifts what is reported as available (the ``ws_rest_disagree`` fault)."""
    avail = line.free + offset
    cash = avail + line.locked
    return {
        "ccy": line.asset,
        "eq": num(cash),
        "cashBal": num(cash),
        "availBal": num(avail),
        "availEq": num(avail),
        "frozenBal": num(line.locked),
        "ordFrozen": num(line.locked),
        "fixedBal": "0",
        "disEq": num(cash),
        "eqUsd": "",
        "isoEq": "",
        "liab": "",
        "crossLiab": "",
        "isoLiab": "",
        "interest": "",
        "maxLoan": "",
        "mgnRatio": "",
        "notionalLever": "",
        "spotInUseAmt": "",
        "spotIsoBal": "0",
        "stgyEq": "0",
        "twap": "0",
        "upl": "",
        "uplLiab": "",
        "uTime": str(time),
    }


def balance_data(details: list[dict[str, Any]], time: int) -> dict[str, Any]:
    return {
        "adjEq": "",
        "borrowFroz": "",
        "details": details,
        "imr": "",
        "isoEq": "",
        "mgnRatio": "",
        "mmr": "",
        "notionalUsd": "",
        "ordFroz": "",
        "totalEq": "",
        "uTime": str(time),
        "upl": "",
    }
