"""Set an ERC-20 balance on an anvil chain by writing the token's storage: how a fork funds test accounts with
tokens nobody can mint (USDC on a fork of Ethereum), and with the lab's own tokens alike.

The ``balanceOf`` mapping's slot is found, not assumed: each candidate key (slots 0..``MAX_SLOT``-1, Solidity's and
Vyper's key order) is written with a marker through ``anvil_setStorageAt`` and must read back through
``balanceOf``; a key that does not is restored at once. After the real write the balance is read back again and a
mismatch is an error naming the token, never a silently unfunded account (other fork harnesses' helpers fail
quietly on tokens with rebasing or packed balances).
"""

from __future__ import annotations

from dataclasses import dataclass

from fillpath.chains.abi import fn
from fillpath.execution.simulate import balance_keys
from fillpath.lab.chains import rpc
from fillpath.model.errors import LabError

MAX_SLOT = 32
_MARKER = 0x0F111_9A7B_5107  # an unlikely balance, to recognise our own write


@dataclass(frozen=True, slots=True)
class BalanceSlot:
    """Where a token keeps ``balanceOf``: the mapping's slot and the key order (0 Solidity, 1 Vyper)."""

    slot: int
    order: int

    def key(self, holder: str) -> str:
        return balance_keys(holder, self.slot)[self.order]


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def balance_of(url: str, token: str, holder: str) -> int:
    data = "0x" + fn("ERC20", "balanceOf").encode(holder).hex()
    try:
        raw = rpc.call(url, "eth_call", [{"to": token, "data": data}, "latest"])
    except rpc.RpcUnavailable:
        raise
    except LabError as exc:
        raise LabError(f"{token}: balanceOf({holder}) failed at {url} ({exc}): is it a token on this chain?") from None
    if not raw or raw == "0x":
        raise LabError(f"{token} has no balanceOf at {url} (is it a token on this chain, at this block?)")
    return int(str(raw), 16)


def find_balance_slot(url: str, token: str, holder: str) -> BalanceSlot:
    """Probe the candidate keys of ``balanceOf[holder]``; every probe that misses is restored."""
    for slot in range(MAX_SLOT):
        for order, key in enumerate(balance_keys(holder, slot)):
            old = str(rpc.call(url, "eth_getStorageAt", [token, key, "latest"]))
            rpc.call(url, "anvil_setStorageAt", [token, key, _word(_MARKER)])
            try:
                hit = balance_of(url, token, holder) == _MARKER
            finally:
                rpc.call(url, "anvil_setStorageAt", [token, key, _word(int(old, 16))])
            if hit:
                return BalanceSlot(slot, order)
    raise LabError(
        f"{token}: no balanceOf slot found in storage slots 0..{MAX_SLOT - 1} at {url}; "
        "fund this token another way (a transfer from a holder, impersonated)"
    )


def set_token_balance(url: str, token: str, holder: str, amount: int, slot: BalanceSlot | None = None) -> BalanceSlot:
    """Write ``balanceOf[holder] = amount`` and read it back; returns the slot used (callers may cache it)."""
    if not 0 <= amount < 2**256:
        raise LabError(f"{token}: {amount} is not a uint256 balance")
    found = slot or find_balance_slot(url, token, holder)
    rpc.call(url, "anvil_setStorageAt", [token, found.key(holder), _word(amount)])
    got = balance_of(url, token, holder)
    if got != amount:
        raise LabError(
            f"{token}: balanceOf({holder}) reads {got} after writing {amount} to slot {found.slot}: "
            "the token does not keep balances in a plain mapping (rebasing or packed); fund it another way"
        )
    return found
