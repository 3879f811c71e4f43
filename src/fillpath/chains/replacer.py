"""The fee-bump replacer: a transaction pending too long is signed again at the same nonce with higher fees.

Same sender, nonce, target, calldata, value and gas limit: only the fees change, so whichever member of the family is
mined, the call runs once (the nonce admits one). Nodes accept a replacement only when both fee fields are at least
10% above the pending one's (geth's ``txpool.pricebump``); the bump here is 12.5%, rounded up to the wei, and never
below the current estimate (a base fee that rose since the signing). It stops at a cap: the configured maximum fee
per gas, and a multiple of the fee the family was first signed with — past that the transaction waits as it is
(a runaway base fee is not chased).

The tracker journals the replacement (``TxBroadcast``, under the original's intent) before its bytes leave, so a crash
between the two leaves a family that recovery follows as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fillpath.chains.accounts import Signer
from fillpath.chains.fees import FeePolicy, Fees, suggest_fees
from fillpath.chains.rpc import RpcClient, RpcError
from fillpath.chains.tracker import Tracked, TrackerPolicy
from fillpath.chains.transactions import SignedTx, sign
from fillpath.model.errors import Retryable

BUMP_NUM, BUMP_DEN = 9, 8
"""+12.5% a replacement (nodes require +10% on both fee fields)."""


@dataclass(frozen=True, slots=True)
class ReplacePolicy:
    """When and how far a pending transaction is sped up (``replace_after_s``, ``max_replacements`` and
    ``max_fee_multiple`` of ``[locations.X]`` in the config)."""

    after_s: float | None = 60.0
    """Seconds a transaction may wait unmined before it is replaced; None: never."""
    max_replacements: int = 3
    """Replacements per family (the original is not counted)."""
    max_fee_multiple: int = 3
    """A replacement never offers more than this times the max fee per gas the family was first signed with."""

    def tracker_policy(self, confirmations: int) -> TrackerPolicy:
        return TrackerPolicy(
            confirmations=confirmations, replace_after_s=self.after_s, max_replacements=self.max_replacements
        )


def bump_fee(old: int) -> int:
    """``old`` raised by 12.5%, rounded up (integer wei): always ≥ 110% of ``old``, the node's replacement rule."""
    return (old * BUMP_NUM + BUMP_DEN - 1) // BUMP_DEN


def bumped_fees(old: Fees, estimate: Fees | None, cap_wei: int) -> Fees | None:
    """The replacement's fees: each field bumped (``bump_fee``), raised to the estimate's where that is higher, the
    max fee at least the priority fee; None when the max fee (or gas price) would pass ``cap_wei``."""
    if old.eip1559:
        assert old.max_fee_per_gas is not None and old.max_priority_fee_per_gas is not None
        tip = bump_fee(old.max_priority_fee_per_gas)
        cap = bump_fee(old.max_fee_per_gas)
        if estimate is not None and estimate.eip1559:
            tip = max(tip, estimate.max_priority_fee_per_gas or 0)
            cap = max(cap, estimate.max_fee_per_gas or 0)
        cap = max(cap, tip)
        return Fees(max_fee_per_gas=cap, max_priority_fee_per_gas=tip) if cap <= cap_wei else None
    assert old.gas_price is not None
    price = max(bump_fee(old.gas_price), estimate.worst_case_per_gas() if estimate is not None else 0)
    return Fees(gas_price=price) if price <= cap_wei else None


@dataclass
class FeeBumper:
    """The tracker's ``Replacer`` on one chain: re-signs a tracked transaction this process signed (an adopted one,
    after a restart, carries no call: it is followed, not replaced)."""

    rpc: RpcClient
    signer: Signer = field(repr=False)
    chain_id: int
    policy: ReplacePolicy = field(default_factory=ReplacePolicy)
    fee_policy: FeePolicy = field(default_factory=FeePolicy)

    def cap(self, t: Tracked) -> int:
        first = t.first_fee if t.first_fee is not None else (t.signed.fees.worst_case_per_gas() if t.signed else 0)
        return min(self.fee_policy.max_fee_cap_wei, first * self.policy.max_fee_multiple)

    async def __call__(self, t: Tracked) -> SignedTx | None:
        old = t.signed
        if old is None:
            return None
        try:
            estimate: Fees | None = await suggest_fees(self.rpc, self.fee_policy)
        except (Retryable, RpcError):  # above the configured cap, or the node did not say: bump from the old fees
            estimate = None  # alone (the cap holds); a bump never waits on a read
        fees = bumped_fees(old.fees, estimate, self.cap(t))
        if fees is None:
            return None
        return sign(self.signer, self.chain_id, old.nonce, old.call, old.gas, fees)
