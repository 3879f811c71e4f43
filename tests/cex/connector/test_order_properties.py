"""Properties of the state machine under any sequence of venue evidence (repeats, reorders, overfills)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.cex import orders
from fillpath.cex.orders import VenueStatus
from fillpath.model.commands import SubmitOrder
from fillpath.model.events import DriftDetected, FillEvent, OrderFilled
from fillpath.model.orders import OrderState
from fillpath.model.reports import FillReport, OrderStatusReport
from fillpath.model.sides import Side

V, CID = "binance", "fp0-prop"

fills_st = st.builds(
    lambda tid, q: ("fill", FillReport(V, CID, f"t{tid}", Decimal(q) / 10, Decimal(3000))),
    st.integers(0, 6),
    st.integers(1, 6),
)
status_st = st.builds(
    lambda s, vid: ("status", OrderStatusReport(V, CID, vid, s, Decimal(0))),
    st.sampled_from(list(VenueStatus)),
    st.sampled_from([None, "9"]),
)
other_st = st.sampled_from([("unknown", None), ("not_found", None), ("rejected", None)])
step_st = st.one_of(fills_st, fills_st, status_st, other_st)


@settings(max_examples=300, deadline=None)
@given(st.lists(step_st, max_size=25))
def test_invariants_hold_for_any_evidence(steps: list[tuple[str, object]]) -> None:
    cmd = SubmitOrder(V, CID, "ETH/USDT", Side.BUY, Decimal(1))
    o = orders.submitted(orders.new_order(cmd, "ETH"), now_ns=0).order
    booked: dict[str, Decimal] = {}
    finals = 0
    terminal_at: OrderState | None = None
    for i, (what, arg) in enumerate(steps):
        if what == "fill":
            assert isinstance(arg, FillReport)
            step = orders.fills(o, [arg])
        elif what == "status":
            assert isinstance(arg, OrderStatusReport)
            step = orders.observed(o, arg)
        elif what == "unknown":
            step = orders.ambiguous(o, "timeout", i)
        elif what == "not_found":
            step = orders.not_found(o, [], now_ns=i * 10**9, grace_ns=3 * 10**9)
        else:
            step = orders.rejected(o, "no")
        for entry in step.entries:
            e = entry.event
            if isinstance(e, FillEvent):
                assert e.trade_id not in booked  # each trade booked once
                booked[e.trade_id] = e.qty
                finals += isinstance(e, OrderFilled)
            if isinstance(e, DriftDetected):
                assert isinstance(e.observed, Decimal) and e.observed > cmd.qty
        o = step.order
        assert o.filled_qty == sum(booked.values(), Decimal(0)) <= cmd.qty  # never overfilled, nothing lost
        assert finals == (1 if o.filled_qty == cmd.qty else 0)  # exactly one completing fill, when complete
        if terminal_at is not None:
            assert o.state is terminal_at  # a terminal state never moves
        elif o.state.terminal:
            terminal_at = o.state
        if o.state is OrderState.UNKNOWN:
            assert o.unknown_since_ns is not None
