"""The package's version, in a module of its own so that importing it loads nothing else."""

__version__ = "0.2.0"
"""Semantic: the surface in docs/api.md changes incompatibly only with a new major version."""
