"""fillpath: route a swap over every venue at once, execute it durably, and keep books that agree with venues."""

__version__ = "0.1.0"
