"""``fillpath demo``: the main job on the embedded lab."""

from __future__ import annotations


def demo() -> None:
    """Bring the lab up and show what is deployed."""
