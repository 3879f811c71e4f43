"""Exchange adapters over ccxt, and a local exchange simulator."""
