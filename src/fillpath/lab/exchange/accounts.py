"""Per-API-key accounts: a secret and balances split into free and locked, all Decimal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from fillpath.lab.exchange import errors


@dataclass(frozen=True, slots=True)
class BalanceLine:
    asset: str
    free: Decimal
    locked: Decimal


@dataclass
class Account:
    """Mutable state of one key. ``changed`` collects the assets touched since the last stream event."""

    api_key: str
    secret: str
    passphrase: str = ""
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def line(self, asset: str) -> BalanceLine:
        return BalanceLine(asset, self.free.get(asset, Decimal(0)), self.locked.get(asset, Decimal(0)))

    def lines(self) -> list[BalanceLine]:
        return [self.line(a) for a in sorted(set(self.free) | set(self.locked))]

    def set_balances(self, balances: Mapping[str, Decimal]) -> None:
        for asset, amount in balances.items():
            self.free[asset] = amount
            self.changed.add(asset)

    def credit(self, asset: str, amount: Decimal) -> None:
        self.free[asset] = self.free.get(asset, Decimal(0)) + amount
        self.changed.add(asset)

    def debit(self, asset: str, amount: Decimal) -> None:
        have = self.free.get(asset, Decimal(0))
        if have < amount:
            raise errors.insufficient_balance()
        self.free[asset] = have - amount
        self.changed.add(asset)

    def lock(self, asset: str, amount: Decimal) -> None:
        self.debit(asset, amount)
        self.locked[asset] = self.locked.get(asset, Decimal(0)) + amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from locked back to free."""
        self.locked[asset] = self.locked.get(asset, Decimal(0)) - amount
        self.credit(asset, amount)

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        self.locked[asset] = self.locked.get(asset, Decimal(0)) - amount
        self.changed.add(asset)

    def take_changes(self) -> list[BalanceLine]:
        out = [self.line(a) for a in sorted(self.changed)]
        self.changed.clear()
        return out
