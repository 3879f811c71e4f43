"""A world for hostile CLI runs: a data directory with a journal of a few entries, a configuration whose venues do
not answer, the example snapshot and bad files made on demand; and one way to run a command in-process and
collect what a user would see (``tests/cli/test_failure_table.py``, ``tests/test_fuzz.py``)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fillpath.cli.main import run
from fillpath.model.events import VenueDegraded, VenueHalted
from fillpath.state.identity import JournalHome, Marker, key, write_marker
from fillpath.state.store import Store

EXAMPLE = Path(__file__).parents[1] / "router" / "data" / "snapshot_example.json"

CONFIG = """
[locations.lab1]
chain_id = 31337
rpc = "http://127.0.0.1:9"
[locations.lab2]
chain_id = 31338
rpc = "http://127.0.0.1:9"
[exchanges.labex]
ccxt_id = "binance"
urls = {api = "http://127.0.0.1:9"}
[[tokens]]
location = "lab1"
symbol = "WETH"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 18
[[tokens]]
location = "lab1"
symbol = "USDC"
address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
decimals = 6
[[pools]]
location = "lab1"
kind = "uniswap_v2"
address = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def invoke(argv: list[str]) -> Outcome:
    """``fillpath ARGV`` in this process, as the entry point runs it: the exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run(argv)
        except SystemExit as exc:
            code = exc.code
    return Outcome(code if isinstance(code, int) else (0 if code is None else 1), out.getvalue(), err.getvalue())


def invoke_with_env(env: dict[str, str], *args: str) -> Outcome:
    """``fillpath ARGS`` in this process with ``env`` set for the call (a subprocess costs seconds of imports each
    on a loaded box); the environment is put back as it was."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return invoke(list(args))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def completed(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``invoke_with_env`` shaped as ``subprocess.run``'s result, for tests written against a process."""
    res = invoke_with_env(env, *args)
    return subprocess.CompletedProcess(["fillpath", *args], res.code, res.out, res.err)


def example() -> dict[str, Any]:
    return copy.deepcopy(json.loads(EXAMPLE.read_text()))


@dataclass
class World:
    """One hostile run's surroundings, under ``root``."""

    root: Path
    data: Path

    @property
    def db(self) -> Path:
        return self.data / "fillpath.db"

    @property
    def config(self) -> Path:
        return self.root / "venues.toml"  # not ./fillpath.toml: the cases without --config must find none

    @property
    def example(self) -> Path:
        return EXAMPLE

    @property
    def file(self) -> Path:
        """The case's own file (a bad snapshot, a bad configuration ...), written by its setup."""
        return self.root / "case.file"

    def write(self, text: str | bytes, name: str = "case.file") -> Path:
        path = self.root / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    def snapshot(self, edit: Callable[[dict[str, Any]], object]) -> Path:
        doc = example()
        edit(doc)
        return self.write(json.dumps(doc))

    def fingerprint(self) -> tuple[Any, ...]:
        """The journal as a user would lose it: row count and last seq when it reads, else its bytes' hash."""
        if not self.db.exists():
            return ("absent",)
        if self.db.is_dir():
            return ("dir",)
        try:
            with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as conn:
                count = conn.execute("SELECT count(*) FROM journal").fetchone()[0]
                last = conn.execute("SELECT last_seq FROM journal_head").fetchone()[0]
            return ("rows", count, last)
        except sqlite3.DatabaseError:
            return ("bytes", hashlib.sha256(self.db.read_bytes()).hexdigest())


def make_template(root: Path) -> tuple[Path, str]:
    """A journal with a few entries, made once and copied into each case's data directory."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "fillpath.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.append(VenueHalted("lab2", "maintenance"))
        store.append(VenueDegraded("labex", "slow acks"))
        store.append(VenueHalted("nosuchvenue", "an old typo, journaled before names were checked"))
        journal_id = store.journal_id
    assert journal_id is not None
    return path, journal_id


def make_world(root: Path, data: Path, template: tuple[Path, str]) -> World:
    """The case's world: the template journal at ``data``, recorded as this data directory's, and the config."""
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = data / "fillpath.db"
    db.write_bytes(template[0].read_bytes())
    db.chmod(0o600)
    write_marker(JournalHome.of(data), Marker(template[1], "0002", key(f"sqlite:///{db}")))
    world = World(root, data)
    world.config.write_text(CONFIG)
    return world
