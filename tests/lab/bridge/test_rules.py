"""The relayer's rules (``lab/bridge/rules.py``), which the lab's relayer and the chaos world's both apply: checked
against the spoke pool's own conditions (``contracts/src/LabSpokePool.sol``) over every combination."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fillpath.lab.bridge import relayer as lab_relayer
from fillpath.lab.bridge import rules
from fillpath.lab.bridge.rules import Action, Refusal, RelayView, decide
from fillpath.lab.chaos import relayer as chaos_relayer

DEADLINE = 1_000_000

views = st.builds(
    RelayView,
    pending=st.booleans(),
    filled=st.booleans(),
    origin_time=st.integers(DEADLINE - 5, DEADLINE + 5),
    dest_time=st.integers(DEADLINE - 5, DEADLINE + 5),
    fill_deadline=st.just(DEADLINE),
    output_amount=st.integers(1, 10**9),
    inventory=st.integers(0, 2 * 10**9),
    waited_s=st.floats(0, 300, allow_nan=False),
    fill_delay_s=st.none() | st.floats(0, 300, allow_nan=False),
    max_output=st.none() | st.integers(0, 2 * 10**9),
)


@given(views)
def test_the_rule_keeps_the_pools_conditions(v: RelayView) -> None:
    action = decide(v)
    if action is Action.FILL:  # whole, in time, from inventory, within the limit, after the delay
        assert v.pending and not v.filled and v.dest_time < v.fill_deadline
        assert v.inventory >= v.output_amount and (v.max_output is None or v.output_amount <= v.max_output)
        assert v.fill_delay_s is not None and v.waited_s >= v.fill_delay_s
    if action is Action.REFUND:  # never a relay that was or still could be filled
        assert v.pending and not v.filled and v.dest_time > v.fill_deadline and v.origin_time > v.fill_deadline
    assert (action is Action.SETTLED) == (not v.pending)
    assert (action is Action.REPAY) == (v.pending and v.filled)


def test_a_relay_over_the_limit_or_the_inventory_is_never_filled_in_part() -> None:
    v = RelayView(True, False, DEADLINE - 10, DEADLINE - 10, DEADLINE, 3_000, 10_000, 5.0, 1.0, max_output=1_000)
    assert rules.refusal(v) is Refusal.OVER_LIMIT and decide(v) is Action.AWAIT_DEADLINE
    short = RelayView(True, False, DEADLINE - 10, DEADLINE - 10, DEADLINE, 3_000, 2_999, 5.0, 1.0)
    assert rules.refusal(short) is Refusal.INVENTORY and decide(short) is Action.AWAIT_DEADLINE
    assert decide(RelayView(True, False, DEADLINE - 10, DEADLINE - 10, DEADLINE, 3_000, 3_000, 5.0, 1.0)) is Action.FILL
    assert decide(RelayView(True, False, DEADLINE + 1, DEADLINE + 1, DEADLINE, 3_000, 0, 5.0, 1.0)) is Action.REFUND


def test_both_relayers_decide_with_the_one_rule() -> None:
    """The lab's relayer and the chaos world's take every decision from ``rules.decide`` (no copy of its own)."""
    assert lab_relayer.rules.decide is decide and chaos_relayer.rules.decide is decide
