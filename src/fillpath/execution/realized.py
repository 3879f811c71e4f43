"""What a mined executor transaction actually did, read from its receipt's logs (exact, per leg).

Each pool says what it paid in its own ``Swap`` event (a StableSwap pool in ``TokenExchange``); WETH9 says what it
wrapped in ``Deposit`` and unwrapped in ``Withdrawal``; ERC20 ``Transfer`` logs say what reached the recipient.
Balances at two blocks would also count anything else that touched the account in the same block; the logs count
this transaction only.

An aggregator (CALL) leg has no event of its own that we can trust, so its output is what the token's own
``Transfer`` logs moved into the executor during the leg: the leg starts at the executor's exact ``Approval`` of the
quote's spender and runs until the next CALL leg starts; other legs' outputs in that window (their pools' events
say how much) are taken out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from fillpath.chains.executor import ExecLeg, LegKind

V2_SWAP = "0x" + keccak(text="Swap(address,uint256,uint256,uint256,uint256,address)").hex()
V3_SWAP = "0x" + keccak(text="Swap(address,address,int256,int256,uint160,uint128,int24)").hex()
DEPOSIT = "0x" + keccak(text="Deposit(address,uint256)").hex()
WITHDRAWAL = "0x" + keccak(text="Withdrawal(address,uint256)").hex()
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
APPROVAL = "0x" + keccak(text="Approval(address,address,uint256)").hex()
TOKEN_EXCHANGE = "0x" + keccak(text="TokenExchange(address,int128,uint256,int128,uint256)").hex()
_PAID_BY_TRANSFER = (LegKind.UNISWAP_V2, LegKind.UNISWAP_V3, LegKind.STABLESWAP)


def _hex(b: Any) -> str:
    if isinstance(b, (bytes, bytearray)):
        return "0x" + bytes(b).hex()
    return str(b).lower()


def _topic_address(topic: Any) -> str:
    return "0x" + _hex(topic)[-40:]


def _data(log: Mapping[str, Any]) -> bytes:
    d = log["data"]
    return bytes(d) if isinstance(d, (bytes, bytearray)) else bytes.fromhex(str(d)[2:])


def leg_outputs(receipt: Mapping[str, Any], legs: Sequence[ExecLeg]) -> list[int]:
    """Each leg's output, in leg order (a venue used twice in one call is matched in log order)."""
    logs = list(receipt["logs"])
    used: dict[int, int] = {}  # log index → leg index
    out: list[int] = []
    for k, leg in enumerate(legs):
        amount = None
        for i, log in enumerate(logs):
            if i in used or leg.kind == LegKind.CALL or not log["topics"]:
                continue
            addr, topic0 = _hex(log["address"]), _hex(log["topics"][0])
            if leg.kind == LegKind.UNISWAP_V2 and addr == leg.pool.lower() and topic0 == V2_SWAP:
                _in0, _in1, out0, out1 = decode(["uint256"] * 4, _data(log))
                amount = int(out0 or out1)
            elif leg.kind == LegKind.UNISWAP_V3 and addr == leg.pool.lower() and topic0 == V3_SWAP:
                a0, a1, *_ = decode(["int256", "int256", "uint160", "uint128", "int24"], _data(log))
                amount = int(-a0 if a0 < 0 else -a1)
            elif leg.kind == LegKind.STABLESWAP and addr == leg.pool.lower() and topic0 == TOKEN_EXCHANGE:
                amount = int(decode(["int128", "uint256", "int128", "uint256"], _data(log))[3])
            elif _is_wrap_log(leg, addr, topic0):
                amount = int(decode(["uint256"], _data(log))[0])
            if amount is not None:
                used[i] = k
                break
        out.append(amount if amount is not None else 0)
    if any(leg.kind == LegKind.CALL for leg in legs):
        _call_outputs(logs, legs, _hex(receipt.get("to") or ""), used, out)
    return out


def _call_outputs(
    logs: Sequence[Mapping[str, Any]], legs: Sequence[ExecLeg], executor: str, used: Mapping[int, int], out: list[int]
) -> None:
    """Fill in each CALL leg's output (see the module's docstring): ``used`` says which log is which other leg's."""
    starts: list[tuple[int, int]] = []  # (log index, leg index)
    after = -1
    for k, leg in enumerate(legs):
        if leg.kind != LegKind.CALL or leg.call is None:
            continue
        for i in range(after + 1, len(logs)):
            log, topics = logs[i], [_hex(t) for t in logs[i]["topics"]]
            if (len(topics) == 3 and topics[0] == APPROVAL and _hex(log["address"]) == leg.token_in.lower()
                    and _topic_address(topics[1]) == executor and _topic_address(topics[2]) == leg.call.spender.lower()
                    and int.from_bytes(_data(log)[:32], "big") > 0):  # fmt: skip
                starts.append((i, k))
                after = i
                break
    for n, (start, k) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(logs)
        token = legs[k].token_out.lower()
        got = 0
        for i in range(start, end):
            log, topics = logs[i], [_hex(t) for t in logs[i]["topics"]]
            if (len(topics) == 3 and topics[0] == TRANSFER and _hex(log["address"]) == token
                    and _topic_address(topics[2]) == executor):  # fmt: skip
                got += int(decode(["uint256"], _data(log))[0])
            other = used.get(i)
            if other is not None and legs[other].kind in _PAID_BY_TRANSFER and legs[other].token_out.lower() == token:
                got -= out[other]
        out[k] = max(got, 0)


def _is_wrap_log(leg: ExecLeg, addr: str, topic0: str) -> bool:
    if leg.kind == LegKind.WRAP:
        return addr == leg.token_out.lower() and topic0 == DEPOSIT
    return leg.kind == LegKind.UNWRAP and addr == leg.token_in.lower() and topic0 == WITHDRAWAL


def native_unwrapped(receipt: Mapping[str, Any], holder: str) -> int:
    """The ETH ``holder`` got by unwrapping in this transaction (wrapped-native ``Withdrawal(src=holder)`` logs) less
    what it wrapped (``Deposit(dst=holder)``): for an executor call whose output is ETH (which brings no ETH in: its
    ``msg.value`` must be 0), what the executor passed on to the recipient. That payment is an internal call and
    leaves no log of its own; recovery, which has the receipt but not the plan, books it from this."""
    me, total = holder.lower(), 0
    for log in receipt["logs"]:
        topics = log["topics"]
        if len(topics) != 2 or _topic_address(topics[1]) != me:
            continue
        topic0 = _hex(topics[0])
        if topic0 == WITHDRAWAL:
            total += int(decode(["uint256"], _data(log))[0])
        elif topic0 == DEPOSIT:
            total -= int(decode(["uint256"], _data(log))[0])
    return max(total, 0)


def received(receipt: Mapping[str, Any], token: str, recipient: str) -> int:
    """The ERC20 ``token`` this transaction transferred to ``recipient``."""
    total = 0
    for log in receipt["logs"]:
        topics = log["topics"]
        ours = _hex(log["address"]) == token.lower() and _hex(topics[0]) == TRANSFER and len(topics) == 3
        if ours and _topic_address(topics[2]) == recipient.lower():
            total += int(decode(["uint256"], _data(log))[0])
    return total
