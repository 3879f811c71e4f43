"""Running writer processes and checking a store after they stopped (however they stopped)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import func, select

from fillpath.model.events import OrderFilled, OrderPartiallyFilled
from fillpath.state import tables
from fillpath.state.store import Store
from tests.state.writer_proc import ident

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Writer:
    """A writer process and the commits it has reported so far (read by a thread, so kill -9 never blocks)."""

    proc: subprocess.Popen[str]
    commits: list[dict[str, object]] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    _reader: threading.Thread | None = None

    @classmethod
    def start(cls, url: str, tag: str, count: int = 0, go_file: Path | None = None) -> Writer:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.state.writer_proc", url, tag, str(count)]
            + ([str(go_file)] if go_file else []),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        writer = cls(proc)
        writer._reader = threading.Thread(target=writer._read, args=(proc.stdout,), daemon=True)
        writer._reader.start()
        return writer

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by kill -9: that commit may or may not have landed
            if msg.get("ready"):
                self.ready.set()
            else:
                self.commits.append(msg)

    def wait(self, timeout: float) -> int:
        rc = self.proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        return rc

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.stderr else ""


def check_store(url: str, commits: list[dict[str, object]]) -> int:
    """Every reported commit is in the journal as reported; seq is gap-free; every projection row names a
    journal entry; projections equal a replay of the journal. Returns the last seq."""
    with Store.open(url) as store:
        assert store.verify() == []
        journal = {r.seq: r.event for r in store.events()}
        assert sorted(journal) == list(range(1, len(journal) + 1))
        for commit in commits:
            seqs, ids = commit["seqs"], commit["ids"]
            assert isinstance(seqs, list)
            assert isinstance(ids, list)
            assert [ident(journal[s]) for s in seqs] == ids, commit
        with store.engine.connect() as conn:
            for table in tables.PROJECTION_TABLES:
                seq_col = table.c.seq if table is tables.fills else table.c.last_seq
                orphans = conn.execute(
                    select(func.count()).select_from(table).where(seq_col.not_in(select(tables.journal.c.seq)))
                ).scalar_one()
                assert orphans == 0, f"{table.name} has rows without their event"
            fills = conn.execute(select(func.count()).select_from(tables.fills)).scalar_one()
        assert fills == sum(isinstance(e, OrderFilled | OrderPartiallyFilled) for e in journal.values())
        return store.last_seq
