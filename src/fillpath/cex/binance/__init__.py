"""Binance spot: the dialect (parameters, shapes, statuses, error codes, weights) and URL rewriting."""
