"""Events, commands and reports: stable kinds, exact JSON round trips, and no floats getting in."""

from __future__ import annotations

import json
import typing
from dataclasses import FrozenInstanceError, fields
from decimal import Decimal
from enum import StrEnum
from types import NoneType, UnionType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.amounts import UINT256_MAX, add_exact
from fillpath.model.assets import AssetId
from fillpath.model.codec import from_payload, to_payload
from fillpath.model.commands import COMMAND_TYPES, SubmitOrder
from fillpath.model.errors import InvalidInput
from fillpath.model.events import (
    EVENT_TYPES,
    BalanceAdjusted,
    ExternalFlow,
    FillEvent,
    IntentCreated,
    OrderFilled,
    OrderSubmitted,
    TransferRequested,
    event_from_payload,
    event_to_payload,
    event_type,
)
from fillpath.model.reports import REPORT_TYPES, BalanceReport
from fillpath.model.sides import Side

KINDS = {
    "order.submitted", "order.accepted", "order.partially_filled", "order.filled", "order.canceled",
    "order.rejected", "order.expired", "order.unknown", "tx.broadcast", "tx.mined", "tx.confirmed",
    "tx.reverted", "tx.reorged", "tx.dropped", "tx.replaced", "nonce.allocated", "intent.created", "intent.claimed",
    "intent.resolved", "balance.adjusted", "drift.detected", "venue.degraded", "venue.halted",
    "venue.resumed", "clock.divergence", "order.drift_detected", "execution.started", "execution.finished",
    "transfer.requested", "transfer.accepted", "transfer.rejected", "transfer.completed", "transfer.expired",
    "transfer.refunded", "transfer.unknown",
    "service.started", "service.stopped",
    "external.flow", "venue.identified", "venue.checked", "balances.accepted",
    "rebalance.started", "rebalance.finished",
}  # fmt: skip

_decimals = st.builds(lambda n, e: Decimal(n).scaleb(e), st.integers(-(10**40), 10**40), st.integers(-30, 10))
_ints = st.one_of(st.integers(-(2**64), 2**64), st.sampled_from([0, UINT256_MAX, -UINT256_MAX]))
_text = st.text(min_size=1, max_size=12)


_POSITIVE = {"qty", "price", "limit_price", "amount", "output_amount"}
_NON_NEGATIVE = {"fee", "nonce", "expected_out", "received", "refunded"}


def _strategy(tp: Any, name: str = "") -> st.SearchStrategy[Any]:
    if typing.get_origin(tp) in (UnionType, typing.Union):
        return st.one_of([_strategy(a, name) for a in typing.get_args(tp)])
    if name in _POSITIVE | _NON_NEGATIVE and tp in (int, Decimal):
        low = 1 if name in _POSITIVE else 0
        if tp is int:
            return st.integers(low, 2**64)
        return st.builds(lambda n, e: Decimal(n).scaleb(e), st.integers(low, 10**40), st.integers(-30, 10))
    table: dict[Any, st.SearchStrategy[Any]] = {
        str: _text,
        int: _ints,
        bool: st.booleans(),
        Decimal: _decimals,
        NoneType: st.none(),
        AssetId: st.builds(AssetId, st.sampled_from(["ETH", "USDC", "W.BTC"]), st.sampled_from(["lab1", "binance"])),
    }
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return st.sampled_from(tp)
    return table[tp]


def _valid(cls: type) -> st.SearchStrategy[Any]:
    """Any value of ``cls`` its constructor accepts, built from the declared field types."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        hints = typing.get_type_hints(cls)
        kwargs = {f.name: draw(_strategy(hints[f.name], f.name)) for f in fields(cls)}
        if cls in (BalanceAdjusted, ExternalFlow):
            kwargs["venue"] = kwargs["asset"].location
        if cls is TransferRequested:
            kwargs["venue"] = kwargs["source"].location
        return cls(**kwargs)

    return build()


ALL_TYPES = (*EVENT_TYPES, *COMMAND_TYPES, *REPORT_TYPES)


def test_every_event_kind_is_the_one_recorded_here() -> None:
    assert {t.kind for t in EVENT_TYPES} == KINDS
    assert len(EVENT_TYPES) == len(KINDS)
    for kind in KINDS:
        assert event_type(kind).kind == kind


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_payload_round_trips_exactly_through_json(cls: type, data: st.DataObject) -> None:
    value = data.draw(_valid(cls))
    payload = to_payload(value)
    assert all(v is None or isinstance(v, str | bool) for v in payload.values())
    wire = json.loads(json.dumps(payload))
    back = from_payload(cls, wire)
    assert back == value
    assert to_payload(back) == payload  # exponents and int-vs-Decimal survive, not just numeric equality
    assert [type(getattr(back, f.name)) for f in fields(cls)] == [type(getattr(value, f.name)) for f in fields(cls)]


def test_amount_kind_survives_the_round_trip() -> None:
    as_int = IntentCreated("lab1", "i", "swap", amount_in=5, min_out=UINT256_MAX)
    as_dec = IntentCreated("lab1", "i", "swap", amount_in=Decimal("5"), min_out=Decimal("1E+3"))
    p_int, p_dec = event_to_payload(as_int), event_to_payload(as_dec)
    assert (p_int["amount_in"], p_dec["amount_in"]) == ("5", "5E+0")
    assert p_int["min_out"] == str(UINT256_MAX)
    assert type(event_from_payload(as_int.kind, p_int).amount_in) is int  # type: ignore[attr-defined]
    back = event_from_payload(as_dec.kind, p_dec)
    assert isinstance(back, IntentCreated)
    assert type(back.amount_in) is Decimal
    assert str(back.min_out) == "1E+3"


@pytest.mark.parametrize(
    "build",
    [
        lambda: OrderFilled("binance", "c", "t", 1.5, Decimal(1)),  # type: ignore[arg-type]
        lambda: OrderSubmitted("binance", "c", "ETH/USDT", Side.BUY, Decimal("NaN")),
        lambda: BalanceAdjusted("lab1", AssetId("ETH", "lab1"), 1.0, "float"),  # type: ignore[arg-type]
        lambda: BalanceAdjusted("lab1", AssetId("ETH", "lab1"), True, "bool"),
        lambda: OrderSubmitted("binance", "c", "ETH/USDT", "buy", Decimal(1)),  # type: ignore[arg-type]
        lambda: OrderSubmitted("binance", "c", "ETH/USDT", Side.BUY, Decimal(0)),
        lambda: BalanceAdjusted("binance", AssetId("ETH", "lab1"), 1, "wrong place"),
        lambda: BalanceReport("binance", AssetId("USDT", "binance"), 0.1),  # type: ignore[arg-type]
        lambda: SubmitOrder("binance", "c", "ETH/USDT", Side.SELL, Decimal("-1")),
    ],
)
def test_constructors_refuse_floats_and_nonsense(build: Any) -> None:
    with pytest.raises(InvalidInput):
        build()


_GOOD_FILL = {"venue": "b", "client_order_id": "c", "trade_id": "t", "qty": "1", "price": "1", "fee": "0"}


@pytest.mark.parametrize(
    "payload",
    [
        {**_GOOD_FILL, "fee_asset": None, "qty": 1.5},
        {**_GOOD_FILL, "fee_asset": None, "qty": "x"},
        {**_GOOD_FILL, "fee_asset": None, "qty": "Infinity"},
        {**_GOOD_FILL, "fee_asset": None, "price": 2},
        {**_GOOD_FILL},
        {**_GOOD_FILL, "fee_asset": None, "extra": "1"},
    ],
)
def test_decoding_refuses_what_it_would_have_to_guess(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        event_from_payload("order.filled", payload)


def test_the_good_fill_payload_decodes() -> None:
    assert event_from_payload("order.filled", {**_GOOD_FILL, "fee_asset": None}) == OrderFilled(
        "b", "c", "t", Decimal(1), Decimal(1)
    )


def test_a_bare_fill_event_has_no_kind_and_is_refused() -> None:
    with pytest.raises(TypeError):
        FillEvent("binance", "c", "t", Decimal(1), Decimal(1))


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an event kind"):
        event_type("order.teleported")


def test_values_are_frozen() -> None:
    event = OrderFilled("binance", "c", "t", Decimal(1), Decimal(1))
    with pytest.raises(FrozenInstanceError):
        event.qty = Decimal(2)  # type: ignore[misc]


def test_add_exact_raises_instead_of_rounding() -> None:
    big = Decimal(10) ** 600
    assert add_exact(Decimal("0.1"), Decimal("0.2")) == Decimal("0.3")
    assert str(add_exact(big, Decimal("1E-300"))).endswith("1")  # 901 digits: kept, not rounded away
    with pytest.raises(ArithmeticError):
        add_exact(Decimal(10) ** 1200, Decimal("1E-10"))
