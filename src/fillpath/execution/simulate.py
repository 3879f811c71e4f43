"""A dry run's simulation of one chain's executor call, without a signature or an approval on chain.

The executor pulls tokens with ``transferFrom``, so a plain ``eth_call`` from an account that has not approved
it reverts. A dry run must not send the approval (it cannot trade), so the call runs with an eth_call *state
override* that sets the allowance to exactly what the plan pulls. The allowance's storage slot is found, not
assumed: a candidate mapping slot is written through the override and ``allowance()`` must read it back
(Solidity's and Vyper's key orders are both tried), so any standard token works, whatever its layout.
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from fillpath.chains import transactions as txs
from fillpath.chains.abi import error_names, fn
from fillpath.chains.executor import ExecPlan, ExecResult
from fillpath.chains.rpc import RpcClient, RpcError, hex_int
from fillpath.model.errors import Rejected

MAX_SLOT = 16
_PROBE = 0x1F1_0E57  # an unlikely allowance, to recognise our own write


def _word(value: int | str) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value[2:].rjust(64, "0"))
    return value.to_bytes(32, "big")


def allowance_keys(owner: str, spender: str, slot: int) -> list[str]:
    """Storage keys of ``allowance[owner][spender]`` for a mapping at ``slot``: Solidity order, then Vyper's."""
    solidity = keccak(_word(spender) + keccak(_word(owner) + _word(slot)))
    vyper = keccak(_word(slot) + _word(owner))
    vyper = keccak(vyper + _word(spender))
    return ["0x" + solidity.hex(), "0x" + vyper.hex()]


def balance_keys(owner: str, slot: int) -> list[str]:
    """Storage keys of ``balanceOf[owner]`` for a mapping at ``slot``: Solidity order, then Vyper's."""
    return ["0x" + keccak(_word(owner) + _word(slot)).hex(), "0x" + keccak(_word(slot) + _word(owner)).hex()]


class SlotFinder:
    """Finds and remembers each token's allowance slot (one probe per candidate, once per token), and its balance
    slot when a dry run must assume an input that an earlier step (a bridge, a withdrawal) would deliver."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc
        self._found: dict[str, tuple[int, int]] = {}
        self._balances: dict[str, tuple[int, int]] = {}

    async def balance_key(self, token: str, owner: str) -> str:
        found = self._balances.get(token.lower())
        if found is not None:
            return balance_keys(owner, found[0])[found[1]]
        data = "0x" + fn("ERC20", "balanceOf").encode(owner).hex()
        for slot in range(MAX_SLOT):
            for order, key in enumerate(balance_keys(owner, slot)):
                override = {token: {"stateDiff": {key: "0x" + _word(_PROBE).hex()}}}
                try:
                    raw = await self.rpc.request("eth_call", [{"to": token, "data": data}, "latest", override])
                except RpcError:
                    continue
                if hex_int(raw) == _PROBE:
                    self._balances[token.lower()] = (slot, order)
                    return key
        raise Rejected(f"{token}: no balance slot found in slots 0..{MAX_SLOT - 1}", reason="simulation")

    async def key(self, token: str, owner: str, spender: str) -> str:
        found = self._found.get(token.lower())
        if found is not None:
            slot, order = found
            return allowance_keys(owner, spender, slot)[order]
        data = "0x" + fn("ERC20", "allowance").encode(owner, spender).hex()
        for slot in range(MAX_SLOT):
            for order, key in enumerate(allowance_keys(owner, spender, slot)):
                override = {token: {"stateDiff": {key: "0x" + _word(_PROBE).hex()}}}
                try:
                    raw = await self.rpc.request("eth_call", [{"to": token, "data": data}, "latest", override])
                except RpcError:
                    continue
                if hex_int(raw) == _PROBE:
                    self._found[token.lower()] = (slot, order)
                    return key
        raise Rejected(f"{token}: no allowance slot found in slots 0..{MAX_SLOT - 1}", reason="simulation")


async def simulate_plan(rpc: RpcClient, finder: SlotFinder, sender: str, executor: str, plan: ExecPlan) -> ExecResult:
    """What the executor call would deliver per leg now, as ``sender``, with exactly the plan's allowances (and,
    for an input ``sender`` does not hold yet, that input: a dry run's waiting step, as if it had arrived)."""
    overrides: dict[str, Any] = {}
    for pull in plan.pulls:
        key = await finder.key(pull.token, sender, executor)
        overrides.setdefault(pull.token, {"stateDiff": {}})["stateDiff"][key] = "0x" + _word(pull.amount).hex()
        data = "0x" + fn("ERC20", "balanceOf").encode(sender).hex()
        held = hex_int(await rpc.request("eth_call", [{"to": pull.token, "data": data}, "latest"]))
        if held < pull.amount:  # a step waiting for another's output: as if that output had arrived
            bkey = await finder.balance_key(pull.token, sender)
            overrides[pull.token]["stateDiff"][bkey] = "0x" + _word(pull.amount).hex()
    execute = fn("FillpathExecutor", "execute")
    call = txs.ContractCall(executor, plan.calldata(), value=plan.value, returns=execute, what="executor (dry run)")
    out = await txs.simulate(rpc, sender, call, errors=error_names("FillpathExecutor"), overrides=overrides)
    assert out is not None
    return ExecResult(tuple(int(a) for a in out[0]), int(out[1]))
