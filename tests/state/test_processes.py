"""Several OS processes on one store: concurrent writers, and writers killed with SIGKILL mid-append."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from fillpath.state.store import Store
from tests.state.processes import Writer, check_store

PER_WRITER = 100


def test_two_processes_appending_concurrently_get_unique_gap_free_seqs(store_url: str, tmp_path: Path) -> None:
    Store.open(store_url).close()  # migrate once, so the writers race on appends, not on the schema
    go = tmp_path / "go"
    writers = [Writer.start(store_url, tag, PER_WRITER, go) for tag in ("a", "b")]
    for w in writers:
        assert w.ready.wait(30), w.stderr()
    go.touch()
    for w in writers:
        assert w.wait(timeout=60) == 0, w.stderr()
        assert len(w.commits) == PER_WRITER
    seqs = [[s for c in w.commits for s in c["seqs"]] for w in writers]  # type: ignore[attr-defined]
    everything = seqs[0] + seqs[1]
    last = check_store(store_url, writers[0].commits + writers[1].commits)
    assert sorted(everything) == list(range(1, last + 1))  # unique, gap-free, and nobody else's
    if store_url.startswith("postgresql"):
        # Row-lock waiters queue, so the writers interleave. (SQLite's busy handler backs off with sleeps, so
        # one writer often runs its whole burst first; correctness above is what holds there.)
        assert min(seqs[1]) < max(seqs[0]), "the writers did not overlap"
        assert min(seqs[0]) < max(seqs[1]), "the writers did not overlap"


def _crash_loop(url: str, iterations: int, seed: int) -> None:
    rng = random.Random(seed)
    Store.open(url).close()
    commits: list[dict[str, object]] = []
    last = 0
    for n in range(iterations):
        writer = Writer.start(url, f"w{n}")
        assert writer.ready.wait(30), writer.stderr()
        time.sleep(rng.uniform(0.0, 0.12))
        os.kill(writer.proc.pid, signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
        commits += writer.commits
        now = check_store(url, commits)
        assert now >= last
        last = now
    assert commits, "no writer got to commit anything before it was killed"


@pytest.mark.parametrize("seed", [1])
def test_kill_9_mid_append_loses_nothing_committed(store_url: str, seed: int) -> None:
    _crash_loop(store_url, iterations=8, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3])
def test_kill_9_mid_append_soak(store_url: str, seed: int) -> None:
    _crash_loop(store_url, iterations=30, seed=seed)
