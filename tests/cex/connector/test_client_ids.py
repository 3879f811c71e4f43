from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fillpath.cex.client_ids import CLIENT_ID, client_order_id


@given(st.text(min_size=1, max_size=200), st.integers(0, 99_999))
def test_within_every_venues_alphabet_and_deterministic(intent: str, leg: int) -> None:
    cid = client_order_id(intent, leg)
    assert CLIENT_ID.match(cid)
    assert cid == client_order_id(intent, leg)


def test_distinct_per_intent_and_leg() -> None:
    ids = {client_order_id(f"intent-{i}", leg) for i in range(500) for leg in range(3)}
    assert len(ids) == 1500
