"""Test helpers for chain tests: a fresh signer funded from the lab's unlocked development account."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from eth_account import Account

from fillpath.chains.accounts import Signer
from fillpath.chains.rpc import RpcClient
from tests.conftest import Chain

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def funded_signer(chain: Chain, *, eth: int = 100, tokens: dict[str, int] | None = None) -> Signer:
    """A brand-new account (its key exists only inside the Signer) holding ``eth`` ETH and some tokens."""
    signer = Signer(Account.create())
    chain.w3.eth.send_transaction({"from": chain.dev, "to": signer.address, "value": eth * 10**18})
    for symbol, human in (tokens or {}).items():
        token = chain.contract(symbol)
        amount = human * 10 ** token.functions.decimals().call()
        token.functions.transfer(signer.address, amount).transact({"from": chain.dev})
    return signer


def rpc_for(chain: Chain) -> RpcClient:
    return RpcClient(chain.deployment.location, [chain.w3.provider.endpoint_uri])  # type: ignore[attr-defined]
