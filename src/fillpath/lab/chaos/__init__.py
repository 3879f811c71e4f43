"""``fillpath chaos``: a deterministic, seeded simulation of the whole engine (docs/chaos.md).

One process, virtual time, one seeded random source; the engine's real parts (router, guards, intents, journal,
order driver, recovery, reconciler) against in-process venues that fail on purpose. Same seed, same journal.
"""
