"""Local state: the append-only journal and its projections."""
