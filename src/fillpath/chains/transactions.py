"""Build, simulate and sign transactions: exact ERC20 approvals, wrap/unwrap, Uniswap V2 and V3 swaps.

Nothing is signed before it has been simulated with ``eth_call`` and its gas estimated; a swap whose simulation
reverts, or returns less than its min-out, is refused with the reason. Every swap has min-out > 0 and a deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from fillpath.chains.abi import AbiFunction, fn
from fillpath.chains.accounts import Signer
from fillpath.chains.fees import Fees
from fillpath.chains.rpc import RpcClient, RpcError, hex_int
from fillpath.model.errors import InvalidInput, Rejected

UINT256_MAX = 2**256 - 1
_checksum = lru_cache(maxsize=4096)(to_checksum_address)
"""A pure function worth ~25 µs a call; the hot path signs for the same few contracts over and over."""
GAS_HEADROOM_PCT = 20


@dataclass(frozen=True, slots=True)
class ContractCall:
    """One call to make: target, calldata, value, and how to read its result."""

    to: str
    data: bytes
    value: int = 0
    returns: AbiFunction | None = None
    what: str = "call"
    min_out: int | None = None  # for swaps: the simulated output must reach this
    out_index: Callable[[tuple[Any, ...]], int] | None = None  # picks the output amount from the decoded result


@dataclass(frozen=True, slots=True)
class SignedTx:
    chain_id: int
    sender: str
    nonce: int
    tx_hash: str
    raw: bytes
    gas: int
    fees: Fees
    call: ContractCall


def signed_from_raw(raw: bytes, sender: str) -> SignedTx | None:
    """An EIP-1559 transaction read back from its signed bytes (``TxBroadcast.raw``): what a restarted process sent,
    with the call and fees a fee bump re-signs. Other types: None (followed and re-sent, not replaced)."""
    if not raw or raw[0] != 2:
        return None
    from eth_account.typed_transactions.typed_transaction import TypedTransaction
    from eth_utils.crypto import keccak
    from hexbytes import HexBytes

    d = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    fees = Fees(max_fee_per_gas=int(d["maxFeePerGas"]), max_priority_fee_per_gas=int(d["maxPriorityFeePerGas"]))
    call = ContractCall(to_checksum_address(d["to"]), bytes(d["data"]), int(d["value"]), what="journaled call")
    tx_hash = "0x" + keccak(raw).hex()
    return SignedTx(int(d["chainId"]), sender, int(d["nonce"]), tx_hash, bytes(raw), int(d["gas"]), fees, call)


def approve(token: str, spender: str, amount: int, *, unlimited: bool = False) -> ContractCall:
    """An approval for exactly ``amount``. Unlimited approvals exist only behind an explicit flag."""
    if unlimited:
        amount = UINT256_MAX
    elif not 0 < amount < UINT256_MAX:
        raise InvalidInput("amount", f"{amount} is not an exact approval amount", "approve what the trade spends")
    f = fn("ERC20", "approve")
    return ContractCall(token, f.encode(spender, amount), returns=f, what=f"approve {amount} to {spender}")


def wrap(weth: str, amount: int) -> ContractCall:
    return ContractCall(weth, fn("WETH9", "deposit").encode(), value=amount, what=f"wrap {amount}")


def unwrap(weth: str, amount: int) -> ContractCall:
    return ContractCall(weth, fn("WETH9", "withdraw").encode(amount), what=f"unwrap {amount}")


def cancel(sender: str) -> ContractCall:
    """A zero-value self-transfer: sent at a pending transaction's nonce with higher fees, it replaces it."""
    return ContractCall(sender, b"", what="cancel (zero-value self-transfer)")


def _swap_guard(min_out: int, deadline: int) -> None:
    if min_out <= 0:
        raise InvalidInput("min_out", f"{min_out} must be > 0", "every swap needs a minimum output")
    if deadline <= 0:
        raise InvalidInput("deadline", "is not set", "every swap needs a deadline (chain time + a window)")


def v2_swap_exact_in(
    router: str, amount_in: int, min_out: int, path: Sequence[str], recipient: str, deadline: int
) -> ContractCall:
    _swap_guard(min_out, deadline)
    f = fn("UniswapV2Router02", "swapExactTokensForTokens")
    return ContractCall(
        router,
        f.encode(amount_in, min_out, list(path), recipient, deadline),
        returns=f,
        what=f"V2 swap {amount_in} along {len(path) - 1} hop(s)",
        min_out=min_out,
        out_index=lambda r: int(r[0][-1]),
    )


def v3_exact_input_single(
    router: str,
    token_in: str,
    token_out: str,
    fee_ppm: int,
    amount_in: int,
    min_out: int,
    recipient: str,
    deadline: int,
) -> ContractCall:
    _swap_guard(min_out, deadline)
    f = fn("SwapRouter", "exactInputSingle")
    params = (token_in, token_out, fee_ppm, recipient, deadline, amount_in, min_out, 0)
    return ContractCall(
        router, f.encode(params), returns=f, what=f"V3 swap {amount_in} (fee {fee_ppm})", min_out=min_out,
        out_index=lambda r: int(r[0]),
    )  # fmt: skip


# --- revert reasons ------------------------------------------------------------------------------------------

_ERROR = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


class SimulationReverted(Rejected):
    """The ``eth_call`` reverted; ``data`` is the raw revert data (None when the node gave none), so a caller that
    knows the contract can decode the error's arguments (which leg, how much)."""

    def __init__(self, message: str, reason: str, data: bytes | None) -> None:
        super().__init__(message, reason=reason)
        self.data = data


def _revert_bytes(data: Any) -> bytes | None:
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


def revert_reason(data: Any, custom_errors: dict[bytes, str] | None = None) -> str:
    """Error(string), Panic(uint256), a known custom error's name, or the raw selector."""
    if isinstance(data, dict):
        data = data.get("data")
    if not isinstance(data, str) or not data.startswith("0x") or len(data) < 10:
        return "reverted without a reason"
    raw = bytes.fromhex(data[2:])
    sel, body = raw[:4], raw[4:]
    if sel == _ERROR:
        return str(decode(["string"], body)[0])
    if sel == _PANIC:
        return f"panic 0x{decode(['uint256'], body)[0]:02x}"
    if custom_errors and sel in custom_errors:
        return custom_errors[sel]
    return f"custom error 0x{sel.hex()}"


async def simulate(
    rpc: RpcClient,
    sender: str,
    call: ContractCall,
    *,
    block: str = "latest",
    errors: dict[bytes, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Any, ...] | None:
    """``eth_call`` the call; a revert becomes ``Rejected`` naming the reason; a swap below min-out too.

    ``overrides``: an eth_call state override set (address → {"stateDiff": {slot: value}}), for a dry run.
    """
    tx = {"from": sender, "to": call.to, "data": "0x" + call.data.hex(), "value": hex(call.value)}
    params: list[Any] = [tx, block] if not overrides else [tx, block, overrides]
    try:
        out = await rpc.request("eth_call", params)
    except RpcError as exc:
        reason = revert_reason(exc.data, errors) if exc.data else exc.reason or str(exc)
        raise SimulationReverted(
            f"{call.what}: simulation reverted: {reason}", reason, _revert_bytes(exc.data)
        ) from None
    if call.returns is None:
        return None
    result = call.returns.decode(bytes.fromhex(str(out)[2:])) if call.returns.outputs else ()
    if call.min_out is not None and call.out_index is not None:
        got = call.out_index(result)
        if got < call.min_out:
            raise Rejected(f"{call.what}: simulation returns {got}, below min-out {call.min_out}", reason="min_out")
    return result


async def estimate_gas(
    rpc: RpcClient, sender: str, call: ContractCall, *, overrides: dict[str, Any] | None = None
) -> int:
    """Gas with headroom; ``overrides``: a state override set, as for ``simulate`` (an allowance an approval
    signed alongside will have set)."""
    tx = {"from": sender, "to": call.to, "data": "0x" + call.data.hex(), "value": hex(call.value)}
    params: list[Any] = [tx] if not overrides else [tx, "latest", overrides]
    try:
        gas = hex_int(await rpc.request("eth_estimateGas", params))
    except RpcError as exc:
        reason = revert_reason(exc.data) if exc.data else exc.reason or str(exc)
        raise Rejected(f"{call.what}: gas estimation failed: {reason}", reason=reason) from None
    return gas * (100 + GAS_HEADROOM_PCT) // 100


def sign(signer: Signer, chain_id: int, nonce: int, call: ContractCall, gas: int, fees: Fees) -> SignedTx:
    tx: dict[str, Any] = {
        "chainId": chain_id,
        "nonce": nonce,
        "to": _checksum(call.to),
        "data": call.data,
        "value": call.value,
        "gas": gas,
        **fees.as_tx_fields(),
    }
    if fees.eip1559:
        tx["type"] = 2
    signed = signer.sign_transaction(tx)
    return SignedTx(
        chain_id,
        signer.address,
        nonce,
        "0x" + signed.hash.hex().removeprefix("0x"),
        bytes(signed.raw_transaction),
        gas,
        fees,
        call,
    )


async def prepare(
    rpc: RpcClient, signer: Signer, chain_id: int, nonce: int, call: ContractCall, fees: Fees
) -> tuple[SignedTx, tuple[Any, ...] | None]:
    """Simulate, estimate gas, sign. Raises ``Rejected`` (nothing signed) if the simulation says no."""
    result = await simulate(rpc, signer.address, call)
    gas = await estimate_gas(rpc, signer.address, call)
    return sign(signer, chain_id, nonce, call, gas, fees), result


async def broadcast(rpc: RpcClient, tx: SignedTx) -> str:
    """Send the signed bytes. Repeating them is safe; no answer at all raises ``Ambiguous``."""
    try:
        return str(await rpc.request("eth_sendRawTransaction", ["0x" + tx.raw.hex()]))
    except RpcError as exc:
        if "already known" in exc.reason.lower() if exc.reason else False:
            return tx.tx_hash
        raise
