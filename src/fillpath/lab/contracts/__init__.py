"""Python faces of the lab's own contracts (``contracts/src/Lab*.sol``): calldata builders, views, event and
error decoding, by signature, so nothing here needs the build output at run time. A test holds every signature
equal to the forge artifact's ABI.

- ``spoke_pool``: LabSpokePool, the Across-V3-style intent bridge (deposit, fill, repay, refund).
- ``stableswap``: LabStableSwap, the Curve classic plain pool (exchange, get_dy, liquidity, state).
- ``aggregator``: LabAggregator and LabAllowanceHolder, the 0x-v2-style settlement (routes, skims, quotes).
"""
