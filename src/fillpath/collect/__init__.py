"""Collectors (cold path): live venue state → a ``fillpath.snapshot/1`` document."""
