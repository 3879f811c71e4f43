"""Cancelling cycles in a continuous flow before it becomes an integer plan.

A solved flow can circulate: a zero-fee deposit and withdrawal between the same two nodes carry equal flow both ways
at tied prices (the smoothed solve splits an uncapped linear arc's slack evenly), and tied paths can form longer
loops. A plan must execute in order, so it cannot contain a cycle; dropping one of its edges (what the builder does
with what is left) would strand the flow that edge carried. Instead each cycle is cancelled: the flow on every arc
of the cycle shrinks in proportion along it (arc i+1 loses what arc i no longer delivers, at arc i's average rate),
until one arc of the cycle carries nothing. Every node of the cycle keeps its balance except the first, which keeps
at least what it had (a cycle's average rates multiply to at most about 1 at an optimum), so the flow stays
feasible and what reaches the sinks does not change.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_CYCLES = 10_000


def cancel_cycles(
    ends: Sequence[tuple[int, int]], flows: Sequence[float], outs: Sequence[float], floor: float = 1.0
) -> tuple[list[float], list[float]]:
    """``ends[k]`` = (tail, head) of arc k; arcs under ``floor`` input count as empty. Returns acyclic flows."""
    x = list(flows)
    o = list(outs)
    for _ in range(MAX_CYCLES):
        cycle = _find_cycle(ends, x, floor)
        if cycle is None:
            break
        gains = [o[k] / x[k] for k in cycle]
        # the cut at arc i is delta * prod(gains before i); the first arc to empty sets delta
        reach, carry = [], 1.0
        for g in gains:
            reach.append(carry)
            carry *= g
        delta = min(x[k] / r for k, r in zip(cycle, reach, strict=True))
        for k, r in zip(cycle, reach, strict=True):
            cut = delta * r
            if x[k] - cut < floor or x[k] - cut <= x[k] * 1e-12:
                x[k], o[k] = 0.0, 0.0
            else:
                o[k] *= (x[k] - cut) / x[k]
                x[k] -= cut
    return x, o


def _find_cycle(ends: Sequence[tuple[int, int]], x: Sequence[float], floor: float) -> list[int] | None:
    """Arc indices of one directed cycle among arcs carrying at least ``floor``, or None (iterative DFS)."""
    out: dict[int, list[int]] = {}
    for k, (t, _) in enumerate(ends):
        if x[k] >= floor:
            out.setdefault(t, []).append(k)
    state: dict[int, int] = {}  # 1 on the stack, 2 done
    for root in sorted(out):
        if state.get(root):
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        via: list[int] = []  # arc into each stack entry after the root
        state[root] = 1
        while stack:
            node, i = stack[-1]
            arcs = out.get(node, [])
            if i == len(arcs):
                state[node] = 2
                stack.pop()
                if via:
                    via.pop()
                continue
            stack[-1] = (node, i + 1)
            k = arcs[i]
            head = ends[k][1]
            s = state.get(head, 0)
            if s == 1:
                nodes = [n for n, _ in stack]
                start = nodes.index(head)
                return [*via[start:], k]
            if s == 0:
                state[head] = 1
                stack.append((head, 0))
                via.append(k)
    return None
