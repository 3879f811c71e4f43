"""The simulator's OKX v5 surface (REST, private WebSocket, error codes) over the shared engine."""
