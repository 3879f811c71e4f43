"""Gas of one 3-leg plan through FillpathExecutor against the same legs as separate router calls, on lab1.

The plan sells WETH for USDC over the V2 pair, the V3 0.05% pool and the V3 0.3% pool. The reference is what a
wallet without the executor sends: approve Router02 and swap on V2, approve SwapRouter and call
exactInputSingle twice (every approval exact, as fillpath's policy). Each run starts from the same state
(evm_snapshot/evm_revert) with a different size, and both ways must deliver the same USDC to the wei.

Run: ``.venv/bin/python benchmarks/bench_executor_gas.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web3 import Web3

from _table import median, pct, table
from fillpath.chains.executor import ExecLeg, ExecPlan, build_tx
from fillpath.lab.chains import artifacts
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.manager import Lab


class _Lab1:
    def __init__(self, w3: Web3, deployment: LabDeployment) -> None:
        self.w3, self.d = w3, deployment
        self.dev = Web3.to_checksum_address(deployment.dev)

    def contract(self, name: str) -> Any:
        abi = "ERC20" if name in {"WETH", "USDC"} else name
        return self.w3.eth.contract(address=Web3.to_checksum_address(self.d.address(name)), abi=artifacts.abi(abi))

    def gas(self, tx_hash: bytes) -> int:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return int(receipt["gasUsed"])

    def send(self, call: Any) -> int:
        return self.gas(call.transact({"from": self.dev}))

    def deadline(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"]) + 600

    def snapshot(self) -> str:
        return str(self.w3.provider.make_request("evm_snapshot", [])["result"])  # type: ignore[arg-type]

    def revert(self, snap: str) -> None:
        assert self.w3.provider.make_request("evm_revert", [snap])["result"]  # type: ignore[arg-type]


def _executor(lab: _Lab1, amounts: tuple[int, int, int]) -> tuple[int, int, int]:
    """(approve gas, execute gas, USDC received)."""
    d, (a, b, c) = lab.d, amounts
    weth, usdc = d.address("WETH"), d.address("USDC")
    legs = [
        ExecLeg.v2(d.pool("uniswap_v2", "WETH", "USDC").address, weth, usdc, a, 1),
        ExecLeg.v3(d.pool("uniswap_v3", "WETH", "USDC", 500).address, weth, usdc, 500, b, 1),
        ExecLeg.v3(d.pool("uniswap_v3", "WETH", "USDC", 3000).address, weth, usdc, 3000, c, 1),
    ]
    plan = ExecPlan.build(legs, usdc, 1, lab.dev, lab.deadline())
    executor = d.address("FillpathExecutor")
    before = lab.contract("USDC").functions.balanceOf(lab.dev).call()
    approve = lab.send(lab.contract("WETH").functions.approve(executor, a + b + c))
    execute = lab.gas(lab.w3.eth.send_transaction(build_tx(executor, plan, lab.dev)))
    return approve, execute, lab.contract("USDC").functions.balanceOf(lab.dev).call() - before


def _routers(lab: _Lab1, amounts: tuple[int, int, int]) -> tuple[int, int, int]:
    """(approvals gas, swaps gas, USDC received)."""
    (a, b, c) = amounts
    weth, usdc = lab.contract("WETH"), lab.contract("USDC")
    r2, r3 = lab.contract("UniswapV2Router02"), lab.contract("SwapRouter")
    before = usdc.functions.balanceOf(lab.dev).call()
    approvals = lab.send(weth.functions.approve(r2.address, a)) + lab.send(weth.functions.approve(r3.address, b + c))
    deadline = lab.deadline()
    swaps = lab.send(r2.functions.swapExactTokensForTokens(a, 1, [weth.address, usdc.address], lab.dev, deadline))
    for fee, amount in ((500, b), (3000, c)):
        params = (weth.address, usdc.address, fee, lab.dev, deadline, amount, 1, 0)
        swaps += lab.send(r3.functions.exactInputSingle(params))
    return approvals, swaps, usdc.functions.balanceOf(lab.dev).call() - before


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    rng = random.Random(7)
    rows: dict[str, list[int]] = {k: [] for k in ("ex_approve", "ex_exec", "r_approve", "r_swaps")}
    with tempfile.TemporaryDirectory() as tmp:
        lab_ = Lab(Path(tmp) / "data")
        try:
            node = next(n for n in lab_.up() if n.location == "lab1")
            assert node.rpc_url
            assert node.deployment
            lab = _Lab1(Web3(Web3.HTTPProvider(node.rpc_url)), node.deployment)
            for _ in range(args.runs):
                eth = 10**18
                amounts = (rng.randint(1, 300) * eth, rng.randint(1, 2_000) * eth, rng.randint(1, 200) * eth)
                snap = lab.snapshot()
                ex_approve, ex_exec, ex_out = _executor(lab, amounts)
                lab.revert(snap)
                snap = lab.snapshot()
                r_approve, r_swaps, r_out = _routers(lab, amounts)
                lab.revert(snap)
                assert ex_out == r_out, (amounts, ex_out, r_out)  # the same legs, the same USDC to the wei
                for k, v in zip(rows, (ex_approve, ex_exec, r_approve, r_swaps), strict=True):
                    rows[k].append(v)
        finally:
            lab_.down()

    ex_total = [a + b for a, b in zip(rows["ex_approve"], rows["ex_exec"], strict=True)]
    r_total = [a + b for a, b in zip(rows["r_approve"], rows["r_swaps"], strict=True)]
    ref = median(r_total)

    def row(name: str, txs: int, s: list[int]) -> tuple[str, int, int, str, str, str]:
        return (name, txs, len(s), f"{median(s):,.0f}", f"{pct(s, 99):,.0f}", f"{median(s) / ref:.3f}")

    out = [
        row("executor: approve (exact)", 1, rows["ex_approve"]),
        row("executor: execute (3 legs)", 1, rows["ex_exec"]),
        row("executor: total", 2, ex_total),
        row("routers: approvals (Router02, SwapRouter)", 2, rows["r_approve"]),
        row("routers: swaps (V2 + 2 x V3 exactInputSingle)", 3, rows["r_swaps"]),
        row("routers: total (reference)", 5, r_total),
    ]
    header = ["case", "txs", "n", "median gas", "p99 gas", "ratio"]
    title = "WETH→USDC over V2 + V3 0.05% + V3 0.3% on lab1 (gas used; ratio vs separate router calls)"
    print(table(title, header, out))


if __name__ == "__main__":
    main()
