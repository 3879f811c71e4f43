"""Reachability over an adjacency map: one walk for the router's asset graphs and its integer-indexed ones."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def reach(start: Iterable[N], adj: Mapping[N, Sequence[N]]) -> set[N]:
    """Every node reachable from ``start`` (``start`` included) along ``adj``."""
    seen = set(start)
    todo = list(seen)
    while todo:
        for nxt in adj.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
