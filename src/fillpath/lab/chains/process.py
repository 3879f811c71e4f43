"""Processes the lab starts: launched detached, identified by pid *and* start time, so a recycled pid is never
mistaken for our node and ``lab down`` never signals a stranger."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ProcessRef:
    pid: int
    start_ticks: int  # field 22 of /proc/<pid>/stat: distinguishes a recycled pid
    marker: str  # a string that must appear in the process's command line

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "start_ticks": self.start_ticks, "marker": self.marker}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcessRef:
        return cls(int(data["pid"]), int(data["start_ticks"]), str(data["marker"]))


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces; fields after the closing parenthesis are fixed
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie is dead
        return None
    return int(fields[19])


def is_alive(ref: ProcessRef) -> bool:
    if _start_ticks(ref.pid) != ref.start_ticks:
        return False
    try:
        cmdline = Path(f"/proc/{ref.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return ref.marker in cmdline


def spawn(argv: Sequence[str], log_path: Path, marker: str, env: dict[str, str] | None = None) -> ProcessRef:
    """Start ``argv`` in its own session (it outlives the CLI), output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    # Until the child has exec'd, /proc shows the forked copy of *this* process (its command line has no
    # marker), and is_alive would call it dead: wait for the exec before handing out a reference.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        ticks = _start_ticks(proc.pid)
        ref = ProcessRef(proc.pid, ticks or 0, marker)
        if ticks is not None and is_alive(ref):
            return ref
        time.sleep(0.005)
    return ProcessRef(proc.pid, _start_ticks(proc.pid) or 0, marker)


def stop(ref: ProcessRef, timeout: float = 5.0, *, kill: bool = False) -> bool:
    """SIGTERM, then SIGKILL after ``timeout`` (at once with ``kill``: a crash). Returns True if our process was
    running and is now gone."""
    if not is_alive(ref):
        _reap(ref.pid)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(ref.pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(ref.pid)
        if not is_alive(ref):
            return True
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(ref.pid, signal.SIGKILL)
    for _ in range(100):
        _reap(ref.pid)
        if not is_alive(ref):
            break
        time.sleep(0.02)
    return True


def stop_all(refs: Sequence[ProcessRef], timeout: float = 5.0) -> list[bool]:
    """``stop`` for several processes at once: every one is sent SIGTERM first, then each is waited for (SIGKILL
    after ``timeout``), so they shut down side by side instead of one after another. Returns ``stop``'s answer
    for each."""
    alive = [is_alive(ref) for ref in refs]
    for ref, up in zip(refs, alive, strict=True):
        if up:
            with contextlib.suppress(ProcessLookupError):
                os.kill(ref.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for ref, up in zip(refs, alive, strict=True):
        if up:
            stop(ref, timeout=max(0.0, deadline - time.monotonic()))
        else:
            _reap(ref.pid)
    return alive


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child (tests start the lab in-process)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
