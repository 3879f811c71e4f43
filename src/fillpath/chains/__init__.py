"""EVM adapters: rpc, accounts, transactions, readers, and the local chain lab."""
