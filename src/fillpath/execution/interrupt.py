"""An operator's interrupt during a swap, at step boundaries.

The first signal (Ctrl-C, SIGTERM) stops the engine from sending anything new: steps not yet sent fail as
"interrupted" (their inputs are still ours), steps already sent are followed to a final state (or until their
own timeouts leave them unknown), and the execution is journaled as ``interrupted`` with every leg. A second
signal stops waiting: what is still in flight is recorded as unknown, for ``fillpath recover`` to resolve from
the venues. Nothing is ever cancelled half-written: the journal commits are synchronous.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

INTERRUPTED = "interrupted"


@dataclass
class Interrupt:
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Send nothing new."""
    force: asyncio.Event = field(default_factory=asyncio.Event)
    """Stop waiting for what is in flight."""
    reason: str = ""

    def signal(self, name: str) -> None:
        """What a signal handler calls: the first stops sending, the second stops waiting."""
        if self.stop.is_set():
            self.force.set()
            return
        self.reason = name
        self.stop.set()

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()
