"""One module per venue kind: exact integer quote math plus marginal rates for the optimizer."""
