"""One service per data directory: an advisory lock (``<data dir>/service.lock``) and a discovery file
(``<data dir>/service.json``: URL, pid) that the CLI reads to find the running service.

The lock is ``flock``: the kernel drops it when the process dies, so a kill -9 never leaves a stale lock, and a
discovery file counts only while its lock is held.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fillpath.model.errors import FillpathError

LOCK_NAME = "service.lock"
INFO_NAME = "service.json"


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What ``service.json`` says about a running service."""

    url: str
    pid: int
    started_ns: int
    token_required: bool

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "pid": self.pid, "started_ns": str(self.started_ns),
                "token_required": self.token_required}  # fmt: skip


class InstanceLock:
    """Held for the life of the service; a second ``fillpath run`` on the same data directory is refused."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            other = read_info(self.data_dir, check_lock=False)
            who = f" (pid {other.pid}, {other.url})" if other else ""
            raise FillpathError(
                f"another `fillpath run`{who} already serves {self.data_dir}: stop it first (SIGTERM), "
                "or give this one its own data directory (FILLPATH_DATA_DIR)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            info = read_info(self.data_dir, check_lock=False)
            if info is not None and info.pid == os.getpid():
                (self.data_dir / INFO_NAME).unlink()
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def publish(self, info: ServiceInfo) -> None:
        """Write the discovery file (atomically: a reader sees the old file or the new one)."""
        tmp = self.data_dir / f".{INFO_NAME}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(info.to_json(), fh)
        os.replace(tmp, self.data_dir / INFO_NAME)


def _locked(data_dir: Path) -> bool:
    """Whether some process holds the data directory's service lock (probed without taking it for long)."""
    path = data_dir / LOCK_NAME
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_info(data_dir: Path, *, check_lock: bool = True) -> ServiceInfo | None:
    """The running service of ``data_dir``, or None (no file, an unreadable one, or a dead service's)."""
    try:
        raw = json.loads((data_dir / INFO_NAME).read_text())
        info = ServiceInfo(str(raw["url"]), int(raw["pid"]), int(raw["started_ns"]), bool(raw["token_required"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if check_lock and not _locked(data_dir):
        return None
    return info
