"""Property: for any stream of events, appended in any batching, the projections in memory, in the tables,
folded afresh from the journal, and rebuilt from the journal are identical."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings

from fillpath.model.errors import Conflict
from fillpath.model.events import Event, FillEvent, NonceAllocated
from fillpath.state.store import Store
from tests.state.helpers import exact, fresh
from tests.state.strategies import batches


def _expected_journal(stream: list[list[Event]]) -> list[Event]:
    """The events the journal should hold: everything but repeats of a (venue, trade_id) already held, and but
    whole batches that hand out a nonce below the book's next one (refused: another writer took it)."""
    seen: set[tuple[str, str]] = set()
    next_nonce: dict[tuple[str, str], int] = {}
    out = []
    for batch in stream:
        kept, nonces, fills, refused = [], dict(next_nonce), set(seen), False
        for ev in batch:
            if isinstance(ev, NonceAllocated):
                key = (ev.venue, ev.address)
                if key in nonces and ev.nonce < nonces[key]:
                    refused = True
                    break
                nonces[key] = max(ev.nonce + 1, nonces.get(key, 0))
            if isinstance(ev, FillEvent):
                if (ev.venue, ev.trade_id) in fills:
                    continue
                fills.add((ev.venue, ev.trade_id))
            kept.append(ev)
        if not refused:
            out += kept
            seen, next_nonce = fills, nonces
    return out


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=batches)
def test_rebuilding_from_the_journal_gives_identical_state(store: Store, stream: list[list[Event]]) -> None:
    s = fresh(store)
    for batch in stream:
        with contextlib.suppress(Conflict):  # a nonce already handed out: the whole batch is refused
            s.append_many(batch)
    journal = list(s.events())
    assert [r.event for r in journal] == _expected_journal(stream)
    assert [r.seq for r in journal] == list(range(1, len(journal) + 1))

    cached = exact(s.projections())
    assert exact(s.load_projections()) == cached
    assert exact(s.replay()) == cached
    s.rebuild_projections()
    assert exact(s.load_projections()) == cached
    assert exact(s.projections()) == cached
    assert exact(Store(s.engine).projections()) == cached
