"""Gas of the lab contracts and of the executor's STABLESWAP and CALL legs, on the anvil lab (lab1, lab2).

On top of the lab's own deployment the benchmark deploys a LabStableSwap (USDC/USDT/DAI, 20M each, A 1000,
fee 0.01%, admin fee 50%), the lab aggregator with its allowance holder, and a LabSpokePool on each chain. Every
run starts from the same state (evm_snapshot/evm_revert) with a different size; approvals are exact, as
fillpath's policy. Where the executor and the direct calls do the same trades, both must deliver the same
output to the unit.

Run: ``.venv/bin/python benchmarks/bench_lab_contracts_gas.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web3 import Web3

from _table import median, pct, table
from fillpath.chains.executor import ALL, ExecLeg, ExecPlan, build_tx
from fillpath.lab.chains import artifacts
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.contracts import aggregator as agg
from fillpath.lab.contracts import spoke_pool as sp
from fillpath.lab.contracts.artifacts import deploy
from fillpath.lab.manager import Lab

E18 = 10**18


class _Chain:
    def __init__(self, w3: Web3, d: LabDeployment) -> None:
        self.w3, self.d = w3, d
        self.dev = Web3.to_checksum_address(d.dev)

    def token(self, symbol: str) -> Any:
        return self.token_at(self.d.address(symbol))

    def token_at(self, address: str) -> Any:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifacts.abi("ERC20"))

    def contract(self, name: str) -> Any:
        return self.w3.eth.contract(address=Web3.to_checksum_address(self.d.address(name)), abi=artifacts.abi(name))

    def gas(self, tx_hash: bytes) -> int:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return int(receipt["gasUsed"])

    def send(self, call: Any, sender: str | None = None) -> int:
        return self.gas(call.transact({"from": sender or self.dev}))

    def raw(self, to: str, data: bytes, sender: str | None = None, value: int = 0) -> int:
        tx = {"from": sender or self.dev, "to": to, "data": data, "value": value}
        return self.gas(self.w3.eth.send_transaction(tx))  # type: ignore[arg-type]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def rpc(self, method: str, *params: Any) -> Any:
        return self.w3.provider.make_request(method, list(params))["result"]  # type: ignore[arg-type]

    def balance(self, symbol: str, who: str) -> int:
        return int(self.token(symbol).functions.balanceOf(who).call())


class Bench:
    def __init__(self, lab1: _Chain, lab2: _Chain) -> None:
        self.c, self.c2 = lab1, lab2
        d, dev = lab1.d, lab1.dev
        coins = [lab1.token(s) for s in ("USDC", "USDT", "DAI")]
        self.stable = deploy(lab1.w3, dev, "LabStableSwap", [c.address for c in coins], 1000, 10**6, 5 * 10**9, dev,
                             "lab3", "lab3")  # fmt: skip
        for c in coins:
            lab1.send(c.functions.approve(self.stable.address, 2**256 - 1))
        lab1.send(self.stable.functions.add_liquidity([20_000_000 * 10**6, 20_000_000 * 10**6, 20_000_000 * E18], 0))
        for c in coins:
            lab1.send(c.functions.approve(self.stable.address, 0))
        self.holder = deploy(lab1.w3, dev, "LabAllowanceHolder")
        self.agg = deploy(lab1.w3, dev, "LabAggregator", self.holder.address)
        self.spoke1 = deploy(lab1.w3, dev, "LabSpokePool", dev, dev, 3600, 6 * 3600, 3600)
        self.spoke2 = deploy(lab2.w3, lab2.dev, "LabSpokePool", lab2.dev, lab2.dev, 3600, 6 * 3600, 3600)
        lab1.raw(self.spoke1.address, sp.enable_route_calldata(d.address("USDC"), lab2.w3.eth.chain_id))
        self.executor = d.address("FillpathExecutor")
        self.weth, self.usdc, self.dai = d.address("WETH"), d.address("USDC"), d.address("DAI")
        self.pool500 = d.pool("uniswap_v3", "WETH", "USDC", 500).address
        self.pool3000 = d.pool("uniswap_v3", "WETH", "USDC", 3000).address
        self.pair = d.pool("uniswap_v2", "WETH", "USDC").address

    # -------------------------------------------------------------------------------------------- helpers

    def _plan(self, legs: list[ExecLeg], token_out: str) -> int:
        """(approve + execute) gas of a plan, the approvals exact."""
        plan = ExecPlan.build(legs, token_out, 1, self.c.dev, self.c.now() + 600)
        gas = sum(self.c.send(self.c.token_at(p.token).functions.approve(self.executor, p.amount)) for p in plan.pulls)
        return gas + self.c.gas(self.c.w3.eth.send_transaction(build_tx(self.executor, plan, self.c.dev)))

    def _swap(self, amount: int, taker: str) -> agg.SwapCall:
        """The aggregator's route for a quote: WETH → USDC on the 0.3% pool, paid to the taker."""
        hop = agg.Hop.v3(self.pool3000, self.weth, self.usdc)
        return agg.SwapCall(self.weth, amount, self.usdc, 1, taker, (hop,))  # type: ignore[arg-type]

    def _call_leg(self, amount: int) -> ExecLeg:
        tx = agg.holder_transaction(self.holder.address, self.agg.address, self._swap(amount, self.executor))
        return ExecLeg.external(tx.to, self.weth, self.usdc, amount, 1, tx.data, tx.allowance_target)

    # -------------------------------------------------------------------------------------------- cases

    def stable_direct(self, usd: int) -> tuple[int, int]:
        dx = usd * 10**6
        before = self.c.balance("DAI", self.c.dev)
        gas = self.c.send(self.c.token("USDC").functions.approve(self.stable.address, dx))
        gas += self.c.send(self.stable.functions.exchange(0, 2, dx, 0))
        return gas, self.c.balance("DAI", self.c.dev) - before

    def stable_executor(self, usd: int) -> tuple[int, int]:
        before = self.c.balance("DAI", self.c.dev)
        gas = self._plan([ExecLeg.stableswap(self.stable.address, self.usdc, self.dai, 0, 2, usd * 10**6, 1)], self.dai)
        return gas, self.c.balance("DAI", self.c.dev) - before

    def agg_holder(self, eth: int) -> tuple[int, int]:
        tx = agg.holder_transaction(self.holder.address, self.agg.address, self._swap(eth * E18, self.c.dev))
        before = self.c.balance("USDC", self.c.dev)
        gas = self.c.send(self.c.token("WETH").functions.approve(tx.allowance_target, eth * E18))
        gas += self.c.raw(tx.to, tx.data)
        return gas, self.c.balance("USDC", self.c.dev) - before

    def agg_direct(self, eth: int) -> tuple[int, int]:
        tx = agg.direct_transaction(self.agg.address, self._swap(eth * E18, self.c.dev))
        before = self.c.balance("USDC", self.c.dev)
        gas = self.c.send(self.c.token("WETH").functions.approve(tx.allowance_target, eth * E18))
        gas += self.c.raw(tx.to, tx.data)
        return gas, self.c.balance("USDC", self.c.dev) - before

    def call_executor(self, eth: int) -> tuple[int, int]:
        before = self.c.balance("USDC", self.c.dev)
        gas = self._plan([self._call_leg(eth * E18)], self.usdc)
        return gas, self.c.balance("USDC", self.c.dev) - before

    def v3_executor(self, eth: int) -> tuple[int, int]:
        before = self.c.balance("USDC", self.c.dev)
        gas = self._plan([ExecLeg.v3(self.pool3000, self.weth, self.usdc, 3000, eth * E18, 1)], self.usdc)
        return gas, self.c.balance("USDC", self.c.dev) - before

    def mixed_executor(self, sizes: tuple[int, int, int]) -> tuple[int, int]:
        a, b, c = (s * E18 for s in sizes)
        legs = [
            ExecLeg.v2(self.pair, self.weth, self.usdc, a, 1),
            ExecLeg.v3(self.pool500, self.weth, self.usdc, 500, b, 1),
            self._call_leg(c),
            ExecLeg.stableswap(self.stable.address, self.usdc, self.dai, 0, 2, ALL, 1),
        ]
        before = self.c.balance("DAI", self.c.dev)
        gas = self._plan(legs, self.dai)
        return gas, self.c.balance("DAI", self.c.dev) - before

    def mixed_separate(self, sizes: tuple[int, int, int]) -> tuple[int, int]:
        """The same four trades as separate transactions: Router02, SwapRouter, the quote, the pool."""
        a, b, c = (s * E18 for s in sizes)
        ch, weth, usdc = self.c, self.c.token("WETH"), self.c.token("USDC")
        r2, r3 = ch.contract("UniswapV2Router02"), ch.contract("SwapRouter")
        usdc0, dai0 = ch.balance("USDC", ch.dev), ch.balance("DAI", ch.dev)
        deadline = ch.now() + 600
        gas = ch.send(weth.functions.approve(r2.address, a))
        gas += ch.send(r2.functions.swapExactTokensForTokens(a, 1, [self.weth, self.usdc], ch.dev, deadline))
        gas += ch.send(weth.functions.approve(r3.address, b))
        gas += ch.send(r3.functions.exactInputSingle((self.weth, self.usdc, 500, ch.dev, deadline, b, 1, 0)))
        tx = agg.holder_transaction(self.holder.address, self.agg.address, self._swap(c, ch.dev))
        gas += ch.send(weth.functions.approve(tx.allowance_target, c)) + ch.raw(tx.to, tx.data)
        got = ch.balance("USDC", ch.dev) - usdc0
        gas += ch.send(usdc.functions.approve(self.stable.address, got))
        gas += ch.send(self.stable.functions.exchange(0, 2, got, 0))
        return gas, ch.balance("DAI", ch.dev) - dai0

    def spoke(self) -> dict[str, int]:
        """depositV3 (the pool's first and second), fillV3Relay on lab2, repayRelayer, refund by the settler."""
        c, c2, dev = self.c, self.c2, self.c.dev
        usdc1, usdc2 = c.token("USDC"), c2.token("USDC")
        out: dict[str, int] = {}
        c.send(usdc1.functions.approve(self.spoke1.address, 3 * 10**12))
        deposits = []
        for k in range(2):
            now = c.now()
            deposit = sp.Deposit(dev, dev, usdc1.address, usdc2.address, 10**12, 10**12 - 10**8,  # type: ignore[arg-type]
                                 c2.w3.eth.chain_id, now, now + 600)  # fmt: skip
            receipt = c.w3.eth.wait_for_transaction_receipt(
                c.w3.eth.send_transaction({"from": dev, "to": self.spoke1.address, "data": deposit.calldata()})  # type: ignore[typeddict-item]
            )
            out[f"depositV3 #{k + 1}"] = int(receipt["gasUsed"])
            event = sp.decode_log(receipt["logs"][-1], c.w3.eth.chain_id)
            assert isinstance(event, sp.Deposited)
            deposits.append(event)
        c2.send(usdc2.functions.approve(self.spoke2.address, 10**12))
        out["fillV3Relay"] = c2.raw(self.spoke2.address, sp.fill_calldata(deposits[0].relay))
        out["repayRelayer"] = c.raw(self.spoke1.address, sp.repay_calldata(deposits[0].deposit_id, dev))
        c.rpc("anvil_mine", 60)  # 12 s a block: 720 s, past the 600 s deadline
        out["refund (settler)"] = c.raw(self.spoke1.address, sp.refund_calldata(deposits[1].deposit_id))
        return out

    def liquidity(self, usd: int) -> dict[str, int]:
        c = self.c
        amounts = [usd * 10**6, usd * 10**6, usd * E18]
        gas = {"approvals (3)": 0}
        for s, a in zip(("USDC", "USDT", "DAI"), amounts, strict=True):
            gas["approvals (3)"] += c.send(c.token(s).functions.approve(self.stable.address, a))
        minted_before = int(self.stable.functions.balanceOf(c.dev).call())
        gas["add_liquidity (3 coins)"] = c.send(self.stable.functions.add_liquidity(amounts, 0))
        minted = int(self.stable.functions.balanceOf(c.dev).call()) - minted_before
        gas["remove_liquidity"] = c.send(self.stable.functions.remove_liquidity(minted, [0, 0, 0]))
        return gas


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    rng = random.Random(7)
    rows: dict[str, list[int]] = {}

    def run(name: str, fn: Callable[[Any], tuple[int, int]], arg: Any, c: _Chain) -> int:
        """One case from the same state: records its gas, returns its output."""
        snap = c.rpc("evm_snapshot")
        try:
            gas, out = fn(arg)
        finally:
            assert c.rpc("evm_revert", snap)
        rows.setdefault(name, []).append(gas)
        return out

    with tempfile.TemporaryDirectory() as tmp:
        lab_ = Lab(Path(tmp) / "data")
        try:
            nodes = {n.location: n for n in lab_.up()}
            chains = []
            for loc in ("lab1", "lab2"):
                node = nodes[loc]
                assert node.rpc_url
                assert node.deployment
                chains.append(_Chain(Web3(Web3.HTTPProvider(node.rpc_url)), node.deployment))
            b = Bench(*chains)
            c = b.c
            for _ in range(args.runs):
                usd, eth = rng.randint(1_000, 2_000_000), rng.randint(1, 200)
                sizes = (rng.randint(1, 300), rng.randint(1, 2_000), rng.randint(1, 200))
                assert run("StableSwap: approve + exchange", b.stable_direct, usd, c) == run(
                    "StableSwap: executor, 1 STABLESWAP leg", b.stable_executor, usd, c
                )
                holder = run("aggregator: approve holder + exec", b.agg_holder, eth, c)
                assert holder == run("aggregator: approve + swap (direct)", b.agg_direct, eth, c)
                assert holder == run("aggregator: executor, 1 CALL leg", b.call_executor, eth, c)
                assert holder == run("same pool: executor, 1 V3 leg", b.v3_executor, eth, c)
                assert run("4 trades: separate (4 approvals, 4 txs)", b.mixed_separate, sizes, c) == run(
                    "4 trades: executor (V2+V3+CALL+STABLESWAP)", b.mixed_executor, sizes, c
                )
                snap = c.rpc("evm_snapshot")
                for name, gas in b.liquidity(usd).items():
                    rows.setdefault(f"LabStableSwap: {name}", []).append(gas)
                assert c.rpc("evm_revert", snap)
            snaps = (c.rpc("evm_snapshot"), b.c2.rpc("evm_snapshot"))
            for name, gas in b.spoke().items():
                rows.setdefault(f"LabSpokePool: {name}", []).append(gas)
            assert c.rpc("evm_revert", snaps[0])
            assert b.c2.rpc("evm_revert", snaps[1])
        finally:
            lab_.down()

    out = [(name, len(s), f"{median(s):,.0f}", f"{pct(s, 99):,.0f}") for name, s in rows.items()]
    title = "Lab contracts and the executor's new legs on lab1/lab2 (gas used, approvals included where listed)"
    print(table(title, ["case", "n", "median gas", "p99 gas"], out))


if __name__ == "__main__":
    main()
