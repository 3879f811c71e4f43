"""The error hierarchy. Each tier tells the caller what to do next, not just what went wrong.

- ``Retryable``: try again after ``retry_after`` seconds (only if the operation is idempotent).
- ``Ambiguous``: the outcome is unknown; reconcile with the venue before doing anything else.
- ``Rejected``: the venue said no, with its reason.
- ``InvalidInput``: the user gave something wrong; the message names the field and the fix.
- ``Refused``: we declined before anything moved (a precondition); fix it and ask again.
- ``Halted``: a risk gate is closed.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with control and invisible characters escaped (``\\n``, ``\\x1b``, ``\\u202e``): a message quotes
    what a user or a file gave, and a newline, a terminal escape or a right-to-left override in a JSON key must
    neither break the one-line message nor rewrite the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class FillpathError(Exception):
    """Root of every error fillpath raises on purpose."""


class Retryable(FillpathError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(Retryable):
    """Another writer got there first (a nonce, a claim on an intent): nothing was recorded; redo the step from
    fresh state. Raised inside the journal's transaction, under its lock, so exactly one writer wins."""


class Ambiguous(FillpathError):
    """The outcome is unknown (timeout, dropped connection): ask the venue to resolve it, never guess."""


class Rejected(FillpathError):
    def __init__(self, message: str, *, reason: str | None = None, venue: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.venue = venue


class InvalidInput(FillpathError):
    """Bad input from a user or a file. ``field`` names what is wrong; ``fix`` says what to do."""

    def __init__(self, field: str, problem: str, fix: str | None = None) -> None:
        self.field = printable(field)
        self.problem = printable(problem)
        self.fix = None if fix is None else printable(fix)
        field, problem, fix = self.field, self.problem, self.fix
        text = f"{field}: {problem}" if field else problem
        if fix:
            text += f" ({fix})"
        super().__init__(text)


class DamagedState(InvalidInput):
    """State on disk that cannot be used as it is (a damaged, emptied or swapped journal, a corrupt key file):
    ``field`` names the file, ``fix`` the command to restore it or to start over. Never repaired silently."""


class Refused(FillpathError):
    """We declined before anything moved: a precondition does not hold (the lab is not running, something is still
    in flight, a dry run's checks failed). The user can fix it and ask again; nothing needs reconciling."""


class Halted(FillpathError):
    """A risk gate (kill switch, halted venue, limit) is closed."""


class LabError(FillpathError):
    """The local lab could not be brought up, or is not in the state a command needs."""


class LabNotRunning(LabError, Refused):
    """A command needs the lab and it is not running: start it (``fillpath lab up``) and ask again (exit 2)."""
