"""A bridge leg: a deposit into an Across-V3-style spoke pool on the origin chain, a relayer's fill on the target.

The step, in the engine's three phases (``runners.py``):

- ``prepare`` (cold): the relay's terms — exactly what the bridge quotes for the input (``output_amount``: the
  relayer fills a relay whole or not at all), our account on the target as recipient, a fill deadline in the
  origin chain's time — then an exact approval of the input to the spoke pool, the deposit simulated with
  ``eth_call``, gas, fees, nonces;
- ``stage`` (hot, memory): the signature and the records that must be durable before the bytes leave: the nonce,
  the intent (``bridge.across``, naming sender, nonce and hash), ``TransferRequested`` and the broadcast;
- ``run``: the deposit sent and followed to a final state; once final, the ledger is debited from its receipt with
  ``TransferAccepted`` (the funds are in flight), then the transfer is followed on both chains
  (:class:`BridgeWatch`): the relay filled on the target (``TransferCompleted``, the target credited with exactly
  ``output_amount``, the intent resolved good), or its deadline passed there unfilled (``TransferExpired``) and
  the deposit refunded on the origin (``TransferRefunded``, the origin credited back, the intent resolved bad: the
  leg failed and its input is ours again, for the re-plan).

A transfer still in flight when the swap stops waiting is left ``unknown``: it stays in flight in the books, and
``fillpath recover`` resolves it from the same evidence (:meth:`BridgeRunner.resolve`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fillpath.chains import across
from fillpath.chains import transactions as txs
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.chains.tracker import TxState
from fillpath.execution import evm_call
from fillpath.execution.evm import EvmVenue, approvals_gas_of, receipt_ledger
from fillpath.execution.recovery import Resolution, fill_gaps, open_resolution
from fillpath.execution.result import LegResult, LegStatus
from fillpath.execution.runners import Job, Prepared, failed, leg_result, unknown
from fillpath.model.assets import AssetId
from fillpath.model.errors import Rejected
from fillpath.model.events import (
    BalanceAdjusted,
    Event,
    IntentCreated,
    IntentOutcome,
    IntentResolved,
    TransferAccepted,
    TransferCompleted,
    TransferExpired,
    TransferKind,
    TransferRefunded,
    TransferRejected,
    TransferRequested,
    TransferUnknown,
)
from fillpath.router.plan import PlanLeg
from fillpath.router.venues.bridge import Bridge, Transfer
from fillpath.state.records import IntentRecord, TransferState
from fillpath.state.store import Store

ACTION = "bridge.across"
LOG_WINDOW_BLOCKS = 100_000
"""How far back the fill and refund logs are searched (the status views say *whether*; the logs say *which tx*)."""


@dataclass(frozen=True, slots=True)
class BridgeEnd:
    """The bridge on one chain: its spoke pool, and our account there (the recipient of what we bridge to it)."""

    location: str
    chain_id: int
    rpc: RpcClient
    spoke_pool: str
    account: str


@dataclass(frozen=True, slots=True)
class Landing:
    """How a transfer ended (or did not, yet): ``completed`` (``amount`` arrived), ``refunded`` (``amount`` came
    back), or ``pending`` (still in flight)."""

    outcome: str
    amount: int = 0
    ref: str | None = None


@dataclass
class BridgeWatch:
    """Follows one deposit to its end from the chains' own evidence, and books what it finds (idempotent: a
    transfer already final in the journal is not booked again)."""

    store: Store
    ends: Mapping[str, BridgeEnd]
    poll_s: float = 0.25
    timer: Callable[[], float] = time.monotonic
    """Seconds for the wait (a simulation's virtual clock)."""

    def end_of_chain(self, chain_id: int) -> BridgeEnd:
        for end in self.ends.values():
            if end.chain_id == chain_id:
                return end
        raise Rejected(f"the bridge has no spoke pool on chain {chain_id}", reason="route")

    async def follow(self, transfer_id: str, origin: BridgeEnd, dep: across.Deposited, wait_s: float) -> Landing:
        target = self.end_of_chain(dep.destination_chain_id)
        relay_hash = dep.relay.relay_hash(target.chain_id)
        until = self.timer() + wait_s
        while True:
            status = await _call(target.rpc, target.spoke_pool, across.fill_status_calldata(relay_hash))
            if int.from_bytes(status[:32], "big") == across.FillStatus.FILLED:
                return await self._filled(transfer_id, origin, target, dep)
            record = await _call(origin.rpc, origin.spoke_pool, across.deposits_calldata(dep.deposit_id))
            if across.decode_deposit_status(record) is across.DepositStatus.REFUNDED:
                return await self._refunded(transfer_id, origin, dep)
            current = self.store.transfer(transfer_id)
            if current is not None and current.state is TransferState.ACCEPTED:
                head = await target.rpc.request("eth_getBlockByNumber", ["latest", False])
                if hex_int(head["timestamp"]) > dep.relay.fill_deadline:
                    reason = (f"not filled on {target.location} by the fill deadline {dep.relay.fill_deadline} "
                              "(its clock passed it): a refund on the origin is due")  # fmt: skip
                    self.store.append(TransferExpired(origin.location, transfer_id, reason))
            if self.timer() >= until:
                return Landing("pending")
            await asyncio.sleep(self.poll_s)

    async def _filled(self, transfer_id: str, origin: BridgeEnd, target: BridgeEnd, dep: across.Deposited) -> Landing:
        topics = [across.FILLED, across.uint_topic(origin.chain_id), across.uint_topic(dep.deposit_id)]
        logs = await _logs(target.rpc, target.spoke_pool, topics)
        fill = across.first([across.decode_filled(x) for x in logs])
        ref = fill.tx_hash if fill is not None else None
        amount = dep.relay.output_amount
        t = self.store.transfer(transfer_id)
        if t is not None and t.state not in (TransferState.COMPLETED, TransferState.REFUNDED) and t.target:
            self.store.append_many([
                BalanceAdjusted(target.location, t.target, amount, f"bridge fill of {transfer_id}"),
                TransferCompleted(target.location, transfer_id, amount, ref),
                IntentResolved(origin.location, transfer_id, IntentOutcome.GOOD, None),
            ])  # fmt: skip
        return Landing("completed", amount, ref)

    async def _refunded(self, transfer_id: str, origin: BridgeEnd, dep: across.Deposited) -> Landing:
        logs = await _logs(origin.rpc, origin.spoke_pool, [across.REFUNDED, across.uint_topic(dep.deposit_id)])
        refund = across.first([across.decode_refunded(x) for x in logs])
        ref = refund.tx_hash if refund is not None else None
        amount = dep.relay.input_amount
        t = self.store.transfer(transfer_id)
        if t is not None and t.state not in (TransferState.COMPLETED, TransferState.REFUNDED) and t.source:
            why = "refunded on the origin: not filled by its fill deadline"
            expired: list[Event] = []
            if t.state is not TransferState.EXPIRED:  # a refund comes only after the deadline: it expired first
                expired.append(TransferExpired(origin.location, transfer_id, "the deadline passed unfilled (refunded)"))
            self.store.append_many([
                *expired,
                BalanceAdjusted(origin.location, t.source, amount, f"bridge refund of {transfer_id}"),
                TransferRefunded(origin.location, transfer_id, amount, ref),
                IntentResolved(origin.location, transfer_id, IntentOutcome.BAD, why),
            ])  # fmt: skip
        return Landing("refunded", amount, ref)


async def _call(rpc: RpcClient, to: str, data: bytes) -> bytes:
    out = await rpc.request("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
    return bytes.fromhex(str(out)[2:])


async def _logs(rpc: RpcClient, address: str, topics: Sequence[str]) -> list[dict[str, Any]]:
    head = hex_int(await rpc.request("eth_blockNumber", []))
    query = {"address": address, "topics": list(topics), "fromBlock": hex(max(0, head - LOG_WINDOW_BLOCKS)),
             "toBlock": "latest"}  # fmt: skip
    logs: list[dict[str, Any]] = await rpc.request("eth_getLogs", [query])
    return logs


def deposit_of(receipt: Mapping[str, Any], spoke_pool: str, origin_chain_id: int) -> across.Deposited | None:
    logs = [x for x in receipt["logs"] if str(x["address"]).lower() == spoke_pool.lower()]
    return across.first([across.decode_deposited(x, origin_chain_id) for x in logs])


@dataclass
class BridgeRunner:
    """Bridge legs leaving ``location`` (one deposit each). ``venue`` is None in a dry run (no key loaded): the leg
    is priced by the bridge's quote."""

    location: str
    store: Store
    venue: EvmVenue | None
    ends: Mapping[str, BridgeEnd]
    routes: frozenset[str]
    fill_deadline_s: int = 600
    wait_s: float = 300.0
    poll_s: float = 0.25
    assets_by_address: Mapping[str, AssetId] = field(default_factory=dict)
    """This chain's tokens by lower-case address (the ledger is booked from receipts' transfer logs)."""
    clock_ns: Callable[[], int] = time.time_ns
    crash: Callable[[str], None] = field(default=lambda _name: None)
    kind: str = ACTION
    batched: bool = False
    timer: Callable[[], float] = time.monotonic
    """Seconds for the waits and timings (a simulation's virtual clock)."""

    def accepts(self, venue: object) -> bool:
        return (
            isinstance(venue, Bridge)
            and not isinstance(venue, Transfer)
            and venue.id in self.routes
            and venue.location == self.location
        )

    @property
    def watch(self) -> BridgeWatch:
        return BridgeWatch(self.store, self.ends, self.poll_s, self.timer)

    async def prepare(self, job: Job) -> Prepared | list[LegResult]:
        (leg,) = job.legs
        bridge = job.venues[leg.venue]
        assert isinstance(bridge, Bridge)
        output = bridge.quote(leg.asset_in, leg.amount_in)
        if output <= 0:
            return failed(job.legs, job.attempt, f"{leg.amount_in} is below what the bridge charges", ref=job.ref)
        if job.dry_run or self.venue is None:
            return [leg_result(leg, LegStatus.SIMULATED, output, job.attempt, ref=job.ref, at_send=output)]
        origin, target = self.ends[self.location], self.ends.get(leg.asset_out.location)
        token_in, token_out = job.addresses.get(leg.asset_in), job.addresses.get(leg.asset_out)
        if target is None or token_in is None or token_out is None:
            return failed(job.legs, job.attempt, f"no spoke pool or token for {leg.asset_out}", ref=job.ref)
        head = await origin.rpc.request("eth_getBlockByNumber", ["latest", False])
        now = hex_int(head["timestamp"])  # chain time: the spoke pool checks block.timestamp
        data = across.deposit_calldata(
            depositor=self.venue.signer.address, recipient=target.account, input_token=token_in,
            output_token=token_out, input_amount=leg.amount_in, output_amount=output,
            destination_chain_id=target.chain_id, quote_timestamp=now, fill_deadline=now + self.fill_deadline_s,
        )  # fmt: skip
        call = txs.ContractCall(origin.spoke_pool, data, what=f"bridge deposit {leg.amount_in} {leg.asset_in}")
        try:
            prepared = await evm_call.prepare_call(
                self.venue, self.store, call, approvals=[evm_call.Approval(token_in, origin.spoke_pool, leg.amount_in)],
                errors=across.ERROR_NAMES,
            )  # fmt: skip
        except Rejected as exc:  # refused before anything was signed: the input is ours
            return failed(job.legs, job.attempt, str(exc), ref=job.ref)
        by_address = {str(a).lower(): x for x, a in job.addresses.items() if a and x.location == self.location}
        return _BridgeStep(self, job, leg, bridge, output, prepared, by_address)

    async def resolve(self, intent: IntentRecord, wait_s: float) -> Resolution:
        """Recovery: the deposit by hash and nonce, then the fill or the refund (``BridgeWatch``)."""
        assert self.venue is not None
        found, receipt, state = await evm_call.follow_sent(self.venue, self.store, intent.ref, intent.intent_id)
        if found == "never":
            return await self._never_sent(intent, f"never ran: the deposit transaction was {state}")
        if receipt is None:
            return open_resolution(intent, f"the deposit transaction is {state}")
        origin = self.ends[self.location]
        dep = deposit_of(receipt, origin.spoke_pool, origin.chain_id) if state is TxState.CONFIRMED else None
        booked, _ = await self._accept(intent.intent_id, receipt, dep, self.assets_by_address)
        if dep is None:
            return Resolution(intent.intent_id, intent.venue, ACTION, "bad", booked or "the deposit reverted")
        landing = await self.watch.follow(intent.intent_id, origin, dep, wait_s)
        if landing.outcome == "pending":
            return open_resolution(intent, f"deposit {dep.deposit_id} is in flight: not filled or refunded yet")
        outcome = "good" if landing.outcome == "completed" else "bad"
        return Resolution(intent.intent_id, intent.venue, ACTION, outcome, f"{landing.outcome}: {landing.amount}")

    async def _never_sent(self, intent: IntentRecord, why: str) -> Resolution:
        assert self.venue is not None
        detail = why + await fill_gaps(self.store, self.venue, intent.intent_id)
        # its approval may still mine (behind the gap just filled): its gas is booked with this resolution, once
        _, _, call_hash = (intent.ref or "::").split(":")
        approvals, _, pending = await approvals_gas_of(self.venue, self.store, intent.intent_id, call_hash,
                                                       wait_s=self.venue.final_timeout_s)  # fmt: skip
        if pending:
            return open_resolution(intent, f"{why}; its approvals {pending} are not final yet")
        self.store.append_many([
            *approvals,
            TransferRejected(intent.venue, intent.intent_id, detail),
            IntentResolved(intent.venue, intent.intent_id, IntentOutcome.BAD, detail),
        ])  # fmt: skip
        return Resolution(intent.intent_id, intent.venue, ACTION, "bad", detail)

    async def _accept(
        self, transfer_id: str, receipt: Mapping[str, Any], dep: across.Deposited | None, assets: Mapping[str, AssetId]
    ) -> tuple[str | None, int]:
        """Book the final deposit transaction once: the ledger from its receipt and its approvals' gas, and accepted
        (or rejected: it reverted, only the gas was spent). Returns the rejection's reason (None when accepted) and
        the approvals' gas."""
        assert self.venue is not None
        t = self.store.transfer(transfer_id)
        if t is not None and t.state not in (TransferState.REQUESTED, TransferState.UNKNOWN):
            return None, 0  # booked before (the crash came later)
        tx_hash = str(receipt["transactionHash"])
        approvals = await evm_call.approvals_gas(self.venue, self.store, transfer_id, tx_hash)
        events: list[Event] = [*receipt_ledger(self.venue, receipt, assets, 0, evm_call.receipt_gas(receipt), 0),
                               *approvals]  # fmt: skip
        paid = -sum(int(e.delta) for e in approvals if isinstance(e, BalanceAdjusted))
        if dep is None:
            why = "the deposit reverted"
            events += [TransferRejected(self.location, transfer_id, why),
                       IntentResolved(self.location, transfer_id, IntentOutcome.BAD, why)]  # fmt: skip
            self.store.append_many(events)
            return why, paid
        events.append(TransferAccepted(self.location, transfer_id, str(dep.deposit_id),
                                       f"relay {dep.relay.relay_hash(dep.destination_chain_id).hex()}"))  # fmt: skip
        self.store.append_many(events)
        return None, paid


@dataclass
class _BridgeStep:
    runner: BridgeRunner
    job: Job
    leg: PlanLeg
    bridge: Bridge
    output: int
    prepared: evm_call.PreparedCall
    assets_by_address: Mapping[str, AssetId]
    staged: evm_call.StagedCall | None = None

    def stage(self) -> Sequence[Event]:
        r, job, leg = self.runner, self.job, self.leg
        now = r.clock_ns()

        def records(signed: txs.SignedTx) -> list[Event]:
            return [
                IntentCreated(r.location, job.ref, ACTION, f"{signed.sender}:{signed.nonce}:{signed.tx_hash}",
                              leg.asset_in, leg.amount_in, leg.asset_out, self.output, job.deadline_ns),
                TransferRequested(r.location, job.ref, TransferKind.BRIDGE, leg.venue, leg.asset_in, leg.asset_out,
                                  leg.amount_in, self.output, now + self.bridge.latency_s * 10**9,
                                  now + r.fill_deadline_s * 10**9),
            ]  # fmt: skip

        self.staged = evm_call.stage_call(self.prepared, job.ref, records)
        return self.staged.events

    def unstage(self) -> None:
        if self.staged is not None:
            evm_call.unstage_call(self.staged)
            self.staged = None

    async def run(self) -> list[LegResult]:
        assert self.staged is not None, "stage() and commit before run()"
        r, job, leg = self.runner, self.job, self.leg
        tx_hash = self.staged.signed.tx_hash
        r.crash("transfer_intent")
        state, receipt = await evm_call.send_call(self.staged)
        if receipt is None:
            reason = f"the deposit {tx_hash} is {state}: recovery follows it"
            r.store.append(TransferUnknown(r.location, job.ref, reason))
            return unknown(job.legs, job.attempt, reason)
        origin = r.ends[r.location]
        dep = deposit_of(receipt, origin.spoke_pool, origin.chain_id) if state is TxState.CONFIRMED else None
        rejected, approvals = await r._accept(job.ref, receipt, dep, self.assets_by_address)
        gas = evm_call.receipt_gas(receipt) + approvals
        if dep is None:
            return [leg_result(leg, LegStatus.FAILED, None, job.attempt, ref=tx_hash, gas_wei=gas, reason=rejected)]
        r.crash("transfer_sent")
        taken = r.timer()
        landing = await r.watch.follow(job.ref, origin, dep, r.wait_s)
        flight = round((r.timer() - taken) * 1000)
        if landing.outcome == "completed":
            return [leg_result(leg, LegStatus.DONE, landing.amount, job.attempt, ref=tx_hash, at_send=self.output,
                               gas_wei=gas, in_flight_ms=flight)]  # fmt: skip
        if landing.outcome == "refunded":
            why = "refunded: the relay was not filled by its deadline (its input is back at the origin)"
            return [leg_result(leg, LegStatus.FAILED, None, job.attempt, ref=tx_hash, gas_wei=gas, reason=why)]
        reason = f"deposit {dep.deposit_id} still in flight after {r.wait_s:.0f} s: `fillpath recover` follows it"
        r.store.append(TransferUnknown(r.location, job.ref, reason))
        return [leg_result(leg, LegStatus.UNKNOWN, None, job.attempt, ref=tx_hash, gas_wei=gas, reason=reason)]
