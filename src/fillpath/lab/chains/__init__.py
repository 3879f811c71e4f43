"""The local lab: real anvil chains (or in-process eth-tester) with the real Uniswap contracts, seeded."""
