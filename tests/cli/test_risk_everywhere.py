"""``fillpath halt`` with no venue: the kill-switch file, and the same halt in the journal (venue ``*``) for the
engines that share the journal from other machines; ``resume`` releases both."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fillpath.execution.guards import EVERYWHERE
from fillpath.state.store import Store
from tests.cli.failures import completed


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return completed({"FILLPATH_DATA_DIR": str(data)}, *args)  # in this process: no seconds of imports per call


def test_halt_everywhere_is_in_the_journal_too(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store.open(f"sqlite:///{data / 'fillpath.db'}").close()  # a journal exists
    assert _cli(data, "halt", "--reason", "audit").returncode == 0
    assert (data / "HALT").exists()
    with Store.open(f"sqlite:///{data / 'fillpath.db'}") as store:
        assert store.venue_flag(EVERYWHERE).halted
    assert _cli(data, "halt", "--reason", "again").returncode == 0  # idempotent: one halt recorded
    assert _cli(data, "resume").returncode == 0
    assert not (data / "HALT").exists()
    with Store.open(f"sqlite:///{data / 'fillpath.db'}") as store:
        assert not store.venue_flag(EVERYWHERE).halted
        kinds = [r.event.kind for r in store.events() if r.event.venue == EVERYWHERE]
    assert kinds == ["venue.halted", "venue.resumed"]
