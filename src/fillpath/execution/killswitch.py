"""The kill switch: a file. ``fillpath halt`` creates it, ``fillpath resume`` removes it, an operator can ``touch``
it by hand, and the hot path checks it with one ``stat`` — no database, no service that might be down."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class KillSwitch:
    path: Path

    def engaged(self) -> str | None:
        """The reason, if engaged (the file's content, or a default)."""
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:  # unreadable: treat as engaged rather than trade blind
            return f"kill switch file unreadable: {exc.strerror}"
        return text or "halted"

    def engage(self, reason: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(f"{reason} (at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})\n")
        os.replace(tmp, self.path)

    def release(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True
