"""The lab bridge's relayer and settler: a process the lab starts and stops, like the exchange simulator.

Every ``poll_s`` it reads new ``V3FundsDeposited`` logs on every chain's spoke pool and, for each deposit still
Pending on its origin, applies the rules of ``rules.py`` (which the chaos world's relayer applies too):

- if the relay is Filled on the destination (by us, before a restart, or by anyone): the settler repays the
  relayer on the origin;
- else, if the relayer will fill it (no fault stops it, its inventory covers the whole ``outputAmount`` — Across
  fills a relay entirely or not at all) and ``fill_delay_s`` has passed since it saw the deposit: it fills it on the
  destination from its own inventory, then the settler repays it;
- else, once ``refund_after_s`` has passed: the settler makes sure the deadline has passed on the destination's
  clock (the lab's clocks move only when blocks are mined, so it mines them: a real settler would wait), then on
  the origin's, and refunds the depositor.

It keeps nothing on disk: the chains are the truth (a relay is filled at most once, a deposit paid out at most
once, both enforced by the contract), so a restarted relayer rescans from the first block and carries on.

Fault profiles (``POST /admin/faults {"profiles": {name: {param: value}}}``, or the config): ``slow_fill``
(``delay`` seconds instead of ``fill_delay_s``), ``no_fill`` (never fills: every deposit is refunded after the
deadline), ``partial_liquidity`` (``max_output``: the relayer's inventory per token in base units; a relay asking
for more is not filled, so it is refunded), ``paused`` (nothing is done until it is lifted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from fillpath.chains import across
from fillpath.chains.abi import fn
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.lab.bridge import rules
from fillpath.lab.chains import unlocked
from fillpath.lab.contracts import spoke_pool as sp
from fillpath.model.errors import FillpathError

PROFILES: Mapping[str, Mapping[str, str]] = {
    "slow_fill": {"delay": "5"},
    "no_fill": {},
    "partial_liquidity": {"max_output": "0"},
    "paused": {},
}


@dataclass(frozen=True, slots=True)
class ChainConfig:
    location: str
    chain_id: int
    rpc: str
    spoke_pool: str


@dataclass(frozen=True, slots=True)
class RelayerConfig:
    chains: tuple[ChainConfig, ...]
    relayer: str
    settler: str
    fill_delay_s: float = 1.0
    refund_after_s: float = 2.0
    poll_s: float = 0.2
    faults: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "chains": [{"location": c.location, "chain_id": c.chain_id, "rpc": c.rpc, "spoke_pool": c.spoke_pool}
                       for c in self.chains],
            "relayer": self.relayer, "settler": self.settler, "fill_delay_s": self.fill_delay_s,
            "refund_after_s": self.refund_after_s, "poll_s": self.poll_s,
            "faults": {k: dict(v) for k, v in self.faults.items()},
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RelayerConfig:
        chains = tuple(ChainConfig(c["location"], int(c["chain_id"]), c["rpc"], c["spoke_pool"]) for c in d["chains"])
        return cls(chains, d["relayer"], d["settler"], float(d.get("fill_delay_s", 1.0)),
                   float(d.get("refund_after_s", 2.0)), float(d.get("poll_s", 0.2)),
                   check_faults(d.get("faults", {})))  # fmt: skip


def check_faults(raw: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    out = {}
    for name, params in raw.items():
        if name not in PROFILES:
            raise ValueError(f"unknown relayer fault {name!r}; one of {', '.join(PROFILES)}")
        unknown = set(params) - set(PROFILES[name])
        if unknown:
            raise ValueError(f"{name}: unknown parameters {sorted(unknown)}")
        out[name] = {**PROFILES[name], **{str(k): str(v) for k, v in params.items()}}
    return out


@dataclass
class _Seen:
    origin: ChainConfig
    dep: across.Deposited
    seen_at: float
    outcome: str | None = None


@dataclass
class Relayer:
    config: RelayerConfig
    faults: dict[str, dict[str, str]] = field(default_factory=dict)
    rpcs: dict[str, RpcClient] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    seen: dict[tuple[int, int], _Seen] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    errors: int = 0

    def __post_init__(self) -> None:
        self.faults = {k: dict(v) for k, v in self.config.faults.items()}
        self.rpcs = {c.location: RpcClient(c.location, (c.rpc,), timeout_s=5.0) for c in self.config.chains}

    def _chain(self, chain_id: int) -> ChainConfig | None:
        return next((c for c in self.config.chains if c.chain_id == chain_id), None)

    def _record(self, what: str, s: _Seen, **kw: Any) -> None:
        self.log.append({"at_ns": time.time_ns(), "what": what, "origin": s.origin.location,
                         "deposit_id": s.dep.deposit_id, **kw})  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.step()
            except (FillpathError, OSError) as exc:  # a node restarting, a revert under our feet: try again
                self.errors += 1
                self.log.append({"at_ns": time.time_ns(), "what": "error", "error": str(exc)[:300]})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.poll_s)

    async def step(self) -> None:
        if "paused" in self.faults:
            return
        for c in self.config.chains:
            await self._scan(c)
        for key, s in list(self.seen.items()):
            if s.outcome is None:
                await self._act(s)
            if s.outcome is not None:
                del self.seen[key]

    async def _scan(self, c: ChainConfig) -> None:
        rpc = self.rpcs[c.location]
        head = hex_int(await rpc.request("eth_blockNumber", []))
        start = self.cursors.get(c.location, 0)
        if head < start - 1:  # the chain went back (a test reverted it): forget what we saw there
            start = 0
            self.seen = {k: v for k, v in self.seen.items() if v.origin.location != c.location}
        if start > head:
            return
        query = {"address": c.spoke_pool, "topics": [across.FUNDS_DEPOSITED], "fromBlock": hex(start),
                 "toBlock": hex(head)}  # fmt: skip
        for log in await rpc.request("eth_getLogs", [query]):
            dep = across.decode_deposited(log, c.chain_id)
            if dep is not None and (c.chain_id, dep.deposit_id) not in self.seen:
                self.seen[(c.chain_id, dep.deposit_id)] = _Seen(c, dep, time.monotonic())
        self.cursors[c.location] = head + 1

    async def _act(self, s: _Seen) -> None:
        """Read the relay's state from both chains and apply the rule (``rules.decide``)."""
        origin_rpc = self.rpcs[s.origin.location]
        dest = self._chain(s.dep.destination_chain_id)
        if dest is None:
            s.outcome = "no route"
            return
        dest_rpc = self.rpcs[dest.location]
        view = await self._view(s, dest)
        action = rules.decide(view)
        if action is rules.Action.SETTLED:
            s.outcome = "settled"
        elif action is rules.Action.REPAY:
            await self._repay(s)
        elif action is rules.Action.FILL:
            receipt = await unlocked.send(dest_rpc, self.config.relayer, dest.spoke_pool,
                                          sp.fill_calldata(_lab_relay(s.dep.relay)))  # fmt: skip
            self._record("fill", s, ok=hex_int(receipt["status"]) == 1, tx=receipt["transactionHash"])
            if hex_int(receipt["status"]) == 1:
                await self._repay(s)
        elif action is rules.Action.AWAIT_DEADLINE and view.waited_s >= self.config.refund_after_s:
            # the lab's clocks move only when blocks are mined: move both past the deadline (a real settler waits)
            await unlocked.mine_past(dest_rpc, s.dep.relay.fill_deadline)
            await unlocked.mine_past(origin_rpc, s.dep.relay.fill_deadline)
            action = rules.decide(await self._view(s, dest))
        if action is rules.Action.REFUND:
            receipt = await unlocked.send(origin_rpc, self.config.settler, s.origin.spoke_pool,
                                          sp.refund_calldata(s.dep.deposit_id))  # fmt: skip
            self._record("refund", s, ok=hex_int(receipt["status"]) == 1, tx=receipt["transactionHash"])
            s.outcome = "refunded"

    async def _view(self, s: _Seen, dest: ChainConfig) -> rules.RelayView:
        """What the chains say of ``s`` now, with the relayer's faults (``rules.RelayView``)."""
        origin_rpc, dest_rpc = self.rpcs[s.origin.location], self.rpcs[dest.location]
        status = await _call(origin_rpc, s.origin.spoke_pool, across.deposits_calldata(s.dep.deposit_id))
        relay_hash = s.dep.relay.relay_hash(dest.chain_id)
        filled = await _call(dest_rpc, dest.spoke_pool, across.fill_status_calldata(relay_hash))
        balance_of = fn("ERC20", "balanceOf")
        inventory = await _call(dest_rpc, s.dep.relay.output_token, balance_of.encode(self.config.relayer))
        delay: float | None = self.config.fill_delay_s
        if "no_fill" in self.faults:
            delay = None
        elif "slow_fill" in self.faults:
            delay = float(self.faults["slow_fill"]["delay"])
        cap = self.faults.get("partial_liquidity")
        return rules.RelayView(
            pending=across.decode_deposit_status(status) is across.DepositStatus.PENDING,
            filled=int.from_bytes(filled[:32], "big") == across.FillStatus.FILLED,
            origin_time=await unlocked.head_time(origin_rpc), dest_time=await unlocked.head_time(dest_rpc),
            fill_deadline=s.dep.relay.fill_deadline, output_amount=s.dep.relay.output_amount,
            inventory=int.from_bytes(inventory[:32], "big"), waited_s=time.monotonic() - s.seen_at,
            fill_delay_s=delay, max_output=int(cap["max_output"]) if cap is not None else None,
        )  # fmt: skip

    async def _repay(self, s: _Seen) -> None:
        receipt = await unlocked.send(self.rpcs[s.origin.location], self.config.settler, s.origin.spoke_pool,
                                      sp.repay_calldata(s.dep.deposit_id, self.config.relayer))  # fmt: skip
        self._record("repay", s, ok=hex_int(receipt["status"]) == 1, tx=receipt["transactionHash"])
        s.outcome = "repaid"

    async def close(self) -> None:
        for rpc in self.rpcs.values():
            await rpc.close()

    # --- admin over HTTP (loopback) ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ping", self._ping)
        app.router.add_get("/admin/status", self._status)
        app.router.add_post("/admin/faults", self._set_faults)
        return app

    async def _ping(self, _r: web.Request) -> web.Response:
        return web.json_response({})

    async def _status(self, _r: web.Request) -> web.Response:
        pending = [{"origin": s.origin.location, "deposit_id": s.dep.deposit_id} for s in self.seen.values()]
        return web.json_response({"faults": self.faults, "pending": pending, "log": self.log[-200:],
                                  "errors": self.errors})  # fmt: skip

    async def _set_faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.faults = check_faults(body.get("profiles", {}))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"faults": self.faults})


def _lab_relay(r: across.Relay) -> sp.RelayData:
    from eth_utils.address import to_checksum_address as cs

    return sp.RelayData(cs(r.depositor), cs(r.recipient), cs(r.exclusive_relayer), cs(r.input_token),
                        cs(r.output_token), r.input_amount, r.output_amount, r.origin_chain_id, r.deposit_id,
                        r.fill_deadline, r.exclusivity_deadline, r.message)  # fmt: skip


async def _call(rpc: RpcClient, to: str, data: bytes) -> bytes:
    out = await rpc.request("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
    return bytes.fromhex(str(out)[2:])


async def serve(config: RelayerConfig, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    relayer = Relayer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(relayer.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"http://{host}:{port}", flush=True)
    if ready is not None:
        ready.set()
    try:
        await relayer.run(stop)
    finally:
        await runner.cleanup()
        await relayer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fillpath.lab.bridge", description="The lab bridge's relayer.")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    config = RelayerConfig.from_json(json.loads(args.config.read_text()))
    asyncio.run(serve(config, args.host, args.port))
