"""Property: for any stream of events, appended in any batching, the projections in memory, in the tables,
folded afresh from the journal, and rebuilt from the journal are identical."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from fillpath.model.events import Event, FillEvent
from fillpath.state.store import Store
from tests.state.helpers import exact, fresh
from tests.state.strategies import batches


def _expected_journal(stream: list[list[Event]]) -> list[Event]:
    """The events the journal should hold: everything but repeats of a (venue, trade_id) already held."""
    seen: set[tuple[str, str]] = set()
    out = []
    for batch in stream:
        for ev in batch:
            if isinstance(ev, FillEvent):
                if (ev.venue, ev.trade_id) in seen:
                    continue
                seen.add((ev.venue, ev.trade_id))
            out.append(ev)
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
