"""Transaction fees: EIP-1559 from ``eth_feeHistory`` (with configured caps), legacy gas price otherwise."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from fillpath.chains.rpc import RpcClient, RpcError, hex_int
from fillpath.model.errors import Retryable


@dataclass(frozen=True, slots=True)
class FeePolicy:
    blocks: int = 10
    percentile: int = 50
    base_fee_multiplier: int = 2  # max fee = next base fee × this + priority: survives ~6 full blocks of +12.5%
    min_priority_wei: int = 1_000_000  # 0.001 gwei
    max_priority_wei: int = 50 * 10**9
    max_fee_cap_wei: int = 500 * 10**9
    replacement_bump_pct: int = 13  # nodes require >= 12.5% on both fields to replace at the same nonce


@dataclass(frozen=True, slots=True)
class Fees:
    """Either EIP-1559 (``max_fee_per_gas`` and ``max_priority_fee_per_gas``) or legacy (``gas_price``)."""

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None

    @property
    def eip1559(self) -> bool:
        return self.max_fee_per_gas is not None

    def as_tx_fields(self) -> dict[str, int]:
        if self.eip1559:
            assert self.max_priority_fee_per_gas is not None and self.max_fee_per_gas is not None
            return {"maxFeePerGas": self.max_fee_per_gas, "maxPriorityFeePerGas": self.max_priority_fee_per_gas}
        assert self.gas_price is not None
        return {"gasPrice": self.gas_price}

    def worst_case_per_gas(self) -> int:
        return self.max_fee_per_gas if self.max_fee_per_gas is not None else (self.gas_price or 0)

    def bumped(self, policy: FeePolicy) -> Fees:
        """Fees for a replacement at the same nonce: every field raised by at least the required 12.5%."""

        def up(x: int | None) -> int | None:
            return None if x is None else x * (100 + policy.replacement_bump_pct) // 100 + 1

        bumped = Fees(up(self.max_fee_per_gas), up(self.max_priority_fee_per_gas), up(self.gas_price))
        if bumped.worst_case_per_gas() > policy.max_fee_cap_wei:
            raise Retryable(
                f"a replacement needs {bumped.worst_case_per_gas()} wei/gas, above the cap {policy.max_fee_cap_wei}"
            )
        return bumped


def fees_from_history(base_fees: list[int], rewards: list[int], policy: FeePolicy) -> Fees:
    """Pure: ``base_fees[-1]`` is the next block's base fee (as eth_feeHistory returns it)."""
    next_base = base_fees[-1]
    paid = [r for r in rewards if r > 0]
    priority = int(statistics.median(paid)) if paid else policy.min_priority_wei
    priority = max(policy.min_priority_wei, min(policy.max_priority_wei, priority))
    max_fee = next_base * policy.base_fee_multiplier + priority
    if next_base + priority > policy.max_fee_cap_wei:
        raise Retryable(
            f"the next base fee ({next_base} wei) plus priority is above the cap ({policy.max_fee_cap_wei} wei)",
            retry_after=12.0,
        )
    return Fees(max_fee_per_gas=min(max_fee, policy.max_fee_cap_wei), max_priority_fee_per_gas=priority)


async def suggest_fees(rpc: RpcClient, policy: FeePolicy = FeePolicy()) -> Fees:
    try:
        hist = await rpc.request("eth_feeHistory", [hex(policy.blocks), "latest", [policy.percentile]])
    except RpcError:
        hist = None
    head = await rpc.request("eth_getBlockByNumber", ["latest", False])
    base = [hex_int(b) for b in (hist or {}).get("baseFeePerGas") or []]
    head_base = hex_int(head.get("baseFeePerGas") or 0) if head else 0
    if base and head_base:
        # A node's fee-history cache can lag its chain (anvil keeps entries of reverted blocks): never bid
        # below the base fee the head block itself carries.
        base[-1] = max(base[-1], head_base)
    if not base or not any(base):
        price = hex_int(await rpc.request("eth_gasPrice"))
        if price > policy.max_fee_cap_wei:
            raise Retryable(f"gas price {price} wei is above the cap {policy.max_fee_cap_wei}", retry_after=12.0)
        return Fees(gas_price=price)
    rewards = [hex_int(r[0]) for r in (hist or {}).get("reward") or [] if r]
    return fees_from_history(base, rewards, policy)
