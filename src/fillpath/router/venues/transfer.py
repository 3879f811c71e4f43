"""Deposits to and withdrawals from exchange accounts: the math of a bridge (see ``bridge``)."""

from fillpath.router.venues.bridge import Transfer

__all__ = ["Transfer"]
