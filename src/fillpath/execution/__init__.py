"""The hot path: plan → guards → intents → submit → record."""
