"""An order's lifecycle, in one place: the state machine (``cex/orders.py``) moves orders through it and the
journal's projection (``state/``) stores it. NEW exists only in memory, before the submission is journaled."""

from __future__ import annotations

from enum import StrEnum


class OrderState(StrEnum):
    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED, OrderState.EXPIRED})


class TimeInForce(StrEnum):
    """How long an order may rest: GTC until canceled; IOC fills what it can at once and the rest expires
    (a marketable limit that protects a min-out)."""

    GTC = "GTC"
    IOC = "IOC"
