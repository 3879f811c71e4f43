"""The local world for demos and tests (lab chains, exchange simulator, bridge relayer, aggregator).
Production packages never import it."""
