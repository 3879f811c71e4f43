"""What routes on one snapshot share: the graph and what follows from it alone, kept on the :class:`Market`.

A user routes many amounts (and several pairs) on one snapshot; the graph of venue directions within ``max_hops``,
its float curves and the spot-rate completions depend only on the venues and the request's shape, never on the
amount. Building them was a fifth of a mixed route. The memo lives on the market object itself: a new snapshot is a
new ``Market``, so nothing outlives the venues it was built from, and every key names everything the value depends
on besides the venues (sinks, sources, hop budget, exclusions, penalties). Values are pure functions of their key
and the venues, so a hit returns what a miss would build: plans stay identical to the wei.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

LIMIT = 32
"""Entries kept per market (least recently used dropped): a few pairs and hop budgets, not every request ever."""


class Memo:
    """A small least-recently-used map from a key to a value built once. Not shared between markets; a copy or a
    pickle of a market starts empty (the values are large and cheap to rebuild)."""

    __slots__ = ("_entries", "hits", "misses")

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value for ``key``, built by ``make`` on a miss. A ``make`` that raises stores nothing."""
        entries = self._entries
        if key in entries:
            entries.move_to_end(key)
            self.hits += 1
            value: T = entries[key]
            return value
        self.misses += 1
        value = make()
        entries[key] = value
        if len(entries) > LIMIT:
            entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def __reduce__(self) -> tuple[type[Memo], tuple[()]]:
        return (Memo, ())

    def __copy__(self) -> Memo:
        return Memo()

    def __deepcopy__(self, memo: dict[int, object]) -> Memo:
        return Memo()
