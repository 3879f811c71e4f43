"""Exchange deposits and withdrawals as legs: chain → exchange account, and exchange account → chain.

**Deposit** (``transfer.deposit``, runs on the chain): ``prepare`` asks the exchange for our deposit address on
that network and simulates the token transfer (or the native send) to it; ``stage`` signs and returns the nonce,
intent (``sender:nonce:hash``), ``TransferRequested`` and broadcast records; ``run`` sends, follows the transaction
to a final state and debits the ledger from its receipt (``TransferAccepted``: in flight), then asks the exchange's
deposit history for that transaction until it is credited (``TransferCompleted``, the account credited with what
the exchange credited, the intent resolved).

**Withdrawal** (``transfer.withdraw``, runs on the exchange): ``stage`` records the intent (its ref: the client
withdraw id, derived from the intent id) and ``TransferRequested``; ``run`` asks the exchange to withdraw, debits
the ledger when it accepts (``TransferAccepted``), then follows the withdrawal by its client id until the exchange
reports it sent *and* its transaction is on the target chain, where the ledger is credited with what the
transaction actually paid us (``TransferCompleted``). A withdrawal the exchange fails or cancels gives the amount
back to the account (``TransferRefunded``). A withdrawal reported sent whose transaction the chain does not have
stays in flight: never booked on the exchange's word alone.

A request without a reply is never sent again: the withdrawal is looked up by its client id (the venue refuses a
second one under the same id). What is still in flight when the swap stops waiting is left ``unknown`` for
``fillpath recover`` (:meth:`resolve`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_abi.abi import decode

from fillpath.cex.wallet import ExchangeWallet
from fillpath.chains import transactions as txs
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.chains.tracker import TxState
from fillpath.execution import evm_call
from fillpath.execution.bridge import Landing
from fillpath.execution.evm import EvmVenue, receipt_ledger
from fillpath.execution.realized import TRANSFER
from fillpath.execution.recovery import Resolution, fill_gaps, open_resolution
from fillpath.execution.result import LegResult, LegStatus
from fillpath.execution.runners import Job, Prepared, failed, leg_result, unknown
from fillpath.model.amounts import from_base_units, to_base_units
from fillpath.model.assets import AssetId
from fillpath.model.commands import RequestWithdrawal
from fillpath.model.errors import Ambiguous, FillpathError, Rejected
from fillpath.model.events import (
    BalanceAdjusted,
    Event,
    IntentCreated,
    IntentOutcome,
    IntentResolved,
    TransferAccepted,
    TransferCompleted,
    TransferKind,
    TransferRefunded,
    TransferRejected,
    TransferRequested,
    TransferUnknown,
)
from fillpath.model.reports import TransferStatus, TransferStatusReport
from fillpath.router.plan import PlanLeg
from fillpath.router.venues.bridge import Transfer
from fillpath.state.records import IntentRecord, TransferState
from fillpath.state.store import Store

DEPOSIT = "transfer.deposit"
WITHDRAW = "transfer.withdraw"
NOT_FOUND_CHECKS = 3
"""A withdrawal asked for by its client id and absent this many times (``poll_s`` apart) never reached the venue."""


def withdraw_client_id(intent_id: str) -> str:
    """``fw`` + 24 base32 characters of BLAKE2b(intent id): alphanumeric, ≤ 32 characters (what every
    dialect's withdrawal client id accepts); the same intent always gives the same id."""
    digest = hashlib.blake2b(intent_id.encode(), digest_size=15).digest()
    return "fw" + base64.b32encode(digest).decode().lower()


def _taken(store: Store, transfer_id: str) -> bool:
    """The source already took the funds (and we booked it): a resumed follow must not book it again."""
    t = store.transfer(transfer_id)
    return t is not None and t.state not in (TransferState.REQUESTED, TransferState.UNKNOWN)


def _final(store: Store, transfer_id: str) -> bool:
    t = store.transfer(transfer_id)
    return t is not None and t.state in (TransferState.COMPLETED, TransferState.REFUNDED, TransferState.REJECTED)


# --- chain → exchange ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DepositRoute:
    """``coin`` on ``exchange`` over ``network``, paid with ``token`` (None: the chain's native coin)."""

    exchange: str
    coin: str
    network: str
    token: str | None
    target_decimals: int


@dataclass
class DepositRunner:
    """Deposits from chain ``location`` to exchange accounts. ``venue`` is None in a dry run."""

    location: str
    store: Store
    venue: EvmVenue | None
    wallets: Mapping[str, ExchangeWallet]
    routes: Mapping[str, DepositRoute]
    assets_by_address: Mapping[str, AssetId] = field(default_factory=dict)
    wait_s: float = 300.0
    poll_s: float = 0.25
    clock_ns: Callable[[], int] = time.time_ns
    crash: Callable[[str], None] = field(default=lambda _name: None)
    kind: str = DEPOSIT
    timer: Callable[[], float] = time.monotonic
    """Seconds for the waits and timings (a simulation's virtual clock)."""
    batched: bool = False
    _addresses: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def accepts(self, venue: object) -> bool:
        return isinstance(venue, Transfer) and venue.id in self.routes and venue.location == self.location

    async def address(self, route: DepositRoute) -> str:
        key = (route.exchange, route.coin, route.network)
        if key not in self._addresses:
            self._addresses[key] = await self.wallets[route.exchange].deposit_address(route.coin, route.network)
        return self._addresses[key]

    async def prepare(self, job: Job) -> Prepared | list[LegResult]:
        (leg,) = job.legs
        venue = job.venues[leg.venue]
        assert isinstance(venue, Transfer)
        expected = venue.quote(leg.asset_in, leg.amount_in)
        if expected <= 0:
            return failed(job.legs, job.attempt, f"{leg.amount_in} is below the deposit's fee", ref=job.ref)
        if job.dry_run or self.venue is None:
            return [leg_result(leg, LegStatus.SIMULATED, expected, job.attempt, ref=job.ref, at_send=expected)]
        route = self.routes[leg.venue]
        try:
            to = await self.address(route)
            call = (
                evm_call.native_transfer(to, leg.amount_in)
                if route.token is None
                else evm_call.erc20_transfer(route.token, to, leg.amount_in)
            )
            prepared = await evm_call.prepare_call(self.venue, self.store, call)
        except FillpathError as exc:  # refused before anything was signed: the input is ours
            return failed(job.legs, job.attempt, str(exc), ref=job.ref)
        return _DepositStep(self, job, leg, route, expected, prepared)

    async def follow(self, transfer_id: str, route: DepositRoute, tx_hash: str, wait_s: float) -> Landing:
        """Ask the exchange for the deposit of ``tx_hash`` until it is credited (booked once) or ``wait_s`` ends."""
        wallet = self.wallets[route.exchange]
        until = self.timer() + wait_s
        while True:
            try:
                found = [r for r in await wallet.deposits(route.coin, tx_id=tx_hash) if r.tx_hash == tx_hash]
            except FillpathError:
                found = []  # a failed read is no evidence: ask again
            credited = next((r for r in found if r.status is TransferStatus.CREDITED), None)
            if credited is not None:
                return self._credited(transfer_id, route, credited)
            if self.timer() >= until:
                return Landing("pending")
            await asyncio.sleep(self.poll_s)

    def _credited(self, transfer_id: str, route: DepositRoute, r: TransferStatusReport) -> Landing:
        amount = r.amount if isinstance(r.amount, Decimal) else Decimal(r.amount)
        t = self.store.transfer(transfer_id)
        if t is not None and t.target is not None and not _final(self.store, transfer_id):
            self.store.append_many([
                BalanceAdjusted(route.exchange, t.target, amount, f"deposit {transfer_id} credited"),
                TransferCompleted(route.exchange, transfer_id, amount, r.ref),
                IntentResolved(self.location, transfer_id, IntentOutcome.GOOD, None),
            ])  # fmt: skip
        return Landing("completed", to_base_units(amount, route.target_decimals, field="deposit"), r.ref)

    async def _accept(self, transfer_id: str, receipt: Mapping[str, Any], state: TxState, value: int) -> str | None:
        """Book the final deposit transaction once; the rejection's reason when it reverted."""
        assert self.venue is not None
        if _taken(self.store, transfer_id):
            return None
        ok = state is TxState.CONFIRMED
        tx_hash = str(receipt["transactionHash"])
        events: list[Event] = [
            *receipt_ledger(self.venue, receipt, self.assets_by_address, value if ok else 0,
                            evm_call.receipt_gas(receipt), 0),
            *await evm_call.approvals_gas(self.venue, self.store, transfer_id, tx_hash),
        ]  # fmt: skip
        if not ok:
            why = f"the deposit transaction {tx_hash} reverted"
            events += [TransferRejected(self.location, transfer_id, why),
                       IntentResolved(self.location, transfer_id, IntentOutcome.BAD, why)]  # fmt: skip
            self.store.append_many(events)
            return why
        self.store.append_many([*events, TransferAccepted(self.location, transfer_id, tx_hash)])
        return None

    async def resolve(self, intent: IntentRecord, wait_s: float) -> Resolution:
        """Recovery: the deposit transaction by hash and nonce, then its credit at the exchange."""
        assert self.venue is not None
        t = self.store.transfer(intent.intent_id)
        route = self.routes.get(t.route or "") if t is not None else None
        if t is None or route is None:
            return open_resolution(intent, "no deposit route for this transfer is configured")
        found, receipt, state = await evm_call.follow_sent(self.venue, self.store, intent.ref, intent.intent_id)
        if found == "never":
            detail = f"never ran: the deposit transaction was {state}" + await fill_gaps(
                self.store, self.venue, intent.intent_id
            )
            rejected = TransferRejected(intent.venue, intent.intent_id, detail)
            resolved = IntentResolved(intent.venue, intent.intent_id, IntentOutcome.BAD, detail)
            self.store.append_many([rejected, resolved])
            return Resolution(intent.intent_id, intent.venue, DEPOSIT, "bad", detail)
        if receipt is None:
            return open_resolution(intent, f"the deposit transaction is {state}")
        tx = await self.venue.rpc.request("eth_getTransactionByHash", [receipt["transactionHash"]])
        why = await self._accept(intent.intent_id, receipt, state, hex_int(tx["value"]))
        if why is not None:
            return Resolution(intent.intent_id, intent.venue, DEPOSIT, "bad", why)
        landing = await self.follow(intent.intent_id, route, str(receipt["transactionHash"]), wait_s)
        if landing.outcome == "pending":
            return open_resolution(intent, f"deposit {receipt['transactionHash']} is not credited yet")
        return Resolution(intent.intent_id, intent.venue, DEPOSIT, "good", f"credited: {landing.ref}")


@dataclass
class _DepositStep:
    runner: DepositRunner
    job: Job
    leg: PlanLeg
    route: DepositRoute
    expected: int
    prepared: evm_call.PreparedCall
    staged: evm_call.StagedCall | None = None

    def stage(self) -> Sequence[Event]:
        r, job, leg = self.runner, self.job, self.leg
        now = r.clock_ns()
        venue = job.venues[leg.venue]
        assert isinstance(venue, Transfer)
        human = from_base_units(self.expected, self.route.target_decimals)

        def records(signed: txs.SignedTx) -> list[Event]:
            return [
                IntentCreated(r.location, job.ref, DEPOSIT, f"{signed.sender}:{signed.nonce}:{signed.tx_hash}",
                              leg.asset_in, leg.amount_in, leg.asset_out, self.expected, job.deadline_ns),
                TransferRequested(r.location, job.ref, TransferKind.DEPOSIT, leg.venue, leg.asset_in, leg.asset_out,
                                  leg.amount_in, human, now + venue.latency_s * 10**9),
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
            reason = f"the deposit transaction {tx_hash} is {state}: recovery follows it"
            r.store.append(TransferUnknown(r.location, job.ref, reason))
            return unknown(job.legs, job.attempt, reason)
        gas = evm_call.receipt_gas(receipt)
        rejected = await r._accept(job.ref, receipt, state, self.prepared.call.value)
        if rejected is not None:
            return [leg_result(leg, LegStatus.FAILED, None, job.attempt, ref=tx_hash, gas_wei=gas, reason=rejected)]
        r.crash("transfer_sent")
        taken = r.timer()
        tx_hash = str(receipt["transactionHash"])  # a fee bump may be the one mined: the exchange credits its hash
        landing = await r.follow(job.ref, self.route, tx_hash, r.wait_s)
        if landing.outcome == "completed":
            r.crash("transfer_done")
            return [leg_result(leg, LegStatus.DONE, landing.amount, job.attempt, ref=tx_hash, at_send=self.expected,
                               gas_wei=gas, in_flight_ms=round((r.timer() - taken) * 1000))]  # fmt: skip
        reason = f"deposit {tx_hash} not credited after {r.wait_s:.0f} s: `fillpath recover` follows it"
        r.store.append(TransferUnknown(r.location, job.ref, reason))
        return [leg_result(leg, LegStatus.UNKNOWN, None, job.attempt, ref=tx_hash, gas_wei=gas, reason=reason)]


# --- exchange → chain ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WithdrawRoute:
    """``coin`` over ``network`` to chain ``chain``, arriving as ``token`` (None: native); fee and minimum in
    human units of the coin."""

    coin: str
    network: str
    chain: str
    token: str | None
    fee: Decimal
    minimum: Decimal
    source_decimals: int


@dataclass(frozen=True, slots=True)
class ChainAccount:
    """Our account on a chain a withdrawal lands on, and a node to read it from."""

    rpc: RpcClient
    account: str


@dataclass
class WithdrawRunner:
    """Withdrawals from exchange account ``location`` to our accounts on chains. ``wallet`` is None in a dry run."""

    location: str
    store: Store
    wallet: ExchangeWallet | None
    routes: Mapping[str, WithdrawRoute]
    chains: Mapping[str, ChainAccount]
    wait_s: float = 300.0
    poll_s: float = 0.25
    clock_ns: Callable[[], int] = time.time_ns
    crash: Callable[[str], None] = field(default=lambda _name: None)
    kind: str = WITHDRAW
    timer: Callable[[], float] = time.monotonic
    """Seconds for the waits and timings (a simulation's virtual clock)."""
    batched: bool = False

    def accepts(self, venue: object) -> bool:
        return isinstance(venue, Transfer) and venue.id in self.routes and venue.location == self.location

    async def prepare(self, job: Job) -> Prepared | list[LegResult]:
        (leg,) = job.legs
        venue = job.venues[leg.venue]
        assert isinstance(venue, Transfer)
        route = self.routes[leg.venue]
        amount = from_base_units(leg.amount_in, route.source_decimals)
        expected = venue.quote(leg.asset_in, leg.amount_in)
        if amount < route.minimum or expected <= 0:
            why = f"{amount} {route.coin} is below the withdrawal minimum {route.minimum} (fee {route.fee})"
            return failed(job.legs, job.attempt, why, ref=job.ref)
        if job.dry_run or self.wallet is None:
            return [leg_result(leg, LegStatus.SIMULATED, expected, job.attempt, ref=job.ref, at_send=expected)]
        to = self.chains.get(route.chain)
        if to is None:
            return failed(job.legs, job.attempt, f"no account of ours on {route.chain}", ref=job.ref)
        cmd = RequestWithdrawal(self.location, job.ref, withdraw_client_id(job.ref), route.coin, route.network,
                                to.account, amount)  # fmt: skip
        return _WithdrawStep(self, job, leg, route, cmd, expected)

    async def _lookup(self, route: WithdrawRoute, client_id: str) -> TransferStatusReport | None:
        assert self.wallet is not None
        for i in range(NOT_FOUND_CHECKS):
            try:
                found = [r for r in await self.wallet.withdrawals(route.coin, client_id=client_id)
                         if r.client_id == client_id]  # fmt: skip
            except FillpathError:
                found = None
            if found:
                return found[0]
            if found is None and i == NOT_FOUND_CHECKS - 1:
                raise Ambiguous(f"{self.location}: cannot ask for withdrawal {client_id} now")
            await asyncio.sleep(self.poll_s)
        return None

    def _accept(self, transfer_id: str, t_source: AssetId, amount: Decimal, ref: str) -> None:
        if _taken(self.store, transfer_id):
            return
        self.store.append_many([
            BalanceAdjusted(self.location, t_source, -amount, f"withdrawal {transfer_id} accepted"),
            TransferAccepted(self.location, transfer_id, ref),
        ])  # fmt: skip

    def _rejected(self, transfer_id: str, why: str) -> None:
        self.store.append_many([TransferRejected(self.location, transfer_id, why),
                                IntentResolved(self.location, transfer_id, IntentOutcome.BAD, why)])  # fmt: skip

    async def follow(self, transfer_id: str, route: WithdrawRoute, client_id: str, wait_s: float) -> Landing:
        """The withdrawal by its client id until it is on the target chain (booked once), failed (refunded), or
        ``wait_s`` ends. The exchange's "sent" is believed only with its transaction on the chain."""
        assert self.wallet is not None
        chain = self.chains[route.chain]
        until = self.timer() + wait_s
        while True:
            try:
                found = [r for r in await self.wallet.withdrawals(route.coin, client_id=client_id)
                         if r.client_id == client_id]  # fmt: skip
            except FillpathError:
                found = []
            report = found[0] if found else None
            if report is not None and report.status is TransferStatus.FAILED:
                return self._refunded(transfer_id, report)
            if report is not None and report.status is TransferStatus.CREDITED and report.tx_hash:
                received = await _landed(chain, route.token, report.tx_hash)
                if received is not None:
                    return self._landed(transfer_id, route, received, report.tx_hash)
            if self.timer() >= until:
                return Landing("pending")
            await asyncio.sleep(self.poll_s)

    def _landed(self, transfer_id: str, route: WithdrawRoute, received: int, tx_hash: str) -> Landing:
        t = self.store.transfer(transfer_id)
        if t is not None and t.target is not None and not _final(self.store, transfer_id):
            self.store.append_many([
                BalanceAdjusted(route.chain, t.target, received, f"withdrawal {transfer_id} landed"),
                TransferCompleted(route.chain, transfer_id, received, tx_hash),
                IntentResolved(self.location, transfer_id, IntentOutcome.GOOD, None),
            ])  # fmt: skip
        return Landing("completed", received, tx_hash)

    def _refunded(self, transfer_id: str, report: TransferStatusReport) -> Landing:
        t = self.store.transfer(transfer_id)
        amount = t.amount if t is not None and isinstance(t.amount, Decimal) else Decimal(0)
        if t is not None and t.source is not None and not _final(self.store, transfer_id):
            why = f"the exchange reports the withdrawal {report.raw_status} ({report.status}): the amount is back"
            self.store.append_many([
                BalanceAdjusted(self.location, t.source, amount, f"withdrawal {transfer_id} returned"),
                TransferRefunded(self.location, transfer_id, amount, report.ref),
                IntentResolved(self.location, transfer_id, IntentOutcome.BAD, why),
            ])  # fmt: skip
        return Landing("refunded", 0, report.ref)

    async def resolve(self, intent: IntentRecord, wait_s: float) -> Resolution:
        """Recovery: the withdrawal by its client id (the intent's ref), then its transaction on the chain."""
        t = self.store.transfer(intent.intent_id)
        route = self.routes.get(t.route or "") if t is not None else None
        if self.wallet is None or t is None or route is None or t.source is None or intent.ref is None:
            return open_resolution(intent, "no withdrawal route for this transfer is configured")
        if not _taken(self.store, intent.intent_id):
            try:
                report = await self._lookup(route, intent.ref)
            except Ambiguous as exc:
                return open_resolution(intent, str(exc))
            if report is None:
                why = f"never reached {self.location}: no withdrawal under client id {intent.ref}"
                self._rejected(intent.intent_id, why)
                return Resolution(intent.intent_id, intent.venue, WITHDRAW, "bad", why)
            amount = t.amount if isinstance(t.amount, Decimal) else Decimal(0)
            self._accept(intent.intent_id, t.source, amount, report.ref)
        landing = await self.follow(intent.intent_id, route, intent.ref, wait_s)
        if landing.outcome == "pending":
            return open_resolution(intent, f"withdrawal {intent.ref} has not landed on {route.chain} yet")
        outcome = "good" if landing.outcome == "completed" else "bad"
        return Resolution(intent.intent_id, intent.venue, WITHDRAW, outcome, f"{landing.outcome}: {landing.ref}")


async def _landed(chain: ChainAccount, token: str | None, tx_hash: str) -> int | None:
    """What ``tx_hash`` paid our account on the chain (token transfers to us, or the native value sent to us), or
    None when the chain has no successful receipt for it."""
    receipt = await chain.rpc.request("eth_getTransactionReceipt", [tx_hash])
    if receipt is None or hex_int(receipt.get("status", "0x0")) != 1:
        return None
    me = chain.account.lower()
    if token is None:
        tx = await chain.rpc.request("eth_getTransactionByHash", [tx_hash])
        return hex_int(tx["value"]) if str(tx.get("to") or "").lower() == me else 0
    total = 0
    for log in receipt["logs"]:
        topics = [str(x).lower() for x in log["topics"]]
        ours = len(topics) == 3 and topics[0] == TRANSFER and "0x" + topics[2][-40:] == me
        if ours and str(log["address"]).lower() == token.lower():
            total += int(decode(["uint256"], bytes.fromhex(str(log["data"])[2:]))[0])
    return total


@dataclass
class _WithdrawStep:
    runner: WithdrawRunner
    job: Job
    leg: PlanLeg
    route: WithdrawRoute
    cmd: RequestWithdrawal
    expected: int

    def stage(self) -> Sequence[Event]:
        r, job, leg, cmd = self.runner, self.job, self.leg, self.cmd
        venue = job.venues[leg.venue]
        assert isinstance(venue, Transfer)
        now = r.clock_ns()
        return (
            IntentCreated(r.location, job.ref, WITHDRAW, cmd.client_id, leg.asset_in, cmd.amount, leg.asset_out,
                          self.expected, job.deadline_ns),
            TransferRequested(r.location, job.ref, TransferKind.WITHDRAWAL, leg.venue, leg.asset_in, leg.asset_out,
                              cmd.amount, self.expected, now + venue.latency_s * 10**9),
        )  # fmt: skip

    def unstage(self) -> None:
        return None

    async def run(self) -> list[LegResult]:
        r, job, leg, cmd = self.runner, self.job, self.leg, self.cmd
        assert r.wallet is not None
        r.crash("transfer_intent")
        try:
            ref = await r.wallet.withdraw(cmd)
        except Rejected as exc:  # the venue said no: nothing moved
            why = f"refused by {r.location}: {exc}"[:300]
            r._rejected(job.ref, why)
            return failed(job.legs, job.attempt, why, ref=cmd.client_id)
        except Ambiguous:
            try:
                found = await r._lookup(self.route, cmd.client_id)
            except Ambiguous as exc:
                reason = f"withdrawal request without a reply, and the venue cannot be asked: {exc}"
                r.store.append(TransferUnknown(r.location, job.ref, reason[:300]))
                return unknown(job.legs, job.attempt, reason)
            if found is None:
                why = f"the request got no reply and {r.location} has no withdrawal {cmd.client_id}"
                r._rejected(job.ref, why)
                return failed(job.legs, job.attempt, why, ref=cmd.client_id)
            ref = found.ref
        r.crash("withdraw_sent")
        r._accept(job.ref, leg.asset_in, cmd.amount, ref)
        taken = r.timer()
        landing = await r.follow(job.ref, self.route, cmd.client_id, r.wait_s)
        if landing.outcome == "completed":
            flight = round((r.timer() - taken) * 1000)
            return [leg_result(leg, LegStatus.DONE, landing.amount, job.attempt, ref=landing.ref, spent=leg.amount_in,
                               at_send=self.expected, in_flight_ms=flight)]  # fmt: skip
        if landing.outcome == "refunded":
            why = f"the exchange failed the withdrawal {ref}: the amount is back in the account"
            return [leg_result(leg, LegStatus.FAILED, None, job.attempt, ref=cmd.client_id, reason=why)]
        reason = f"withdrawal {cmd.client_id} has not landed after {r.wait_s:.0f} s: `fillpath recover` follows it"
        r.store.append(TransferUnknown(r.location, job.ref, reason))
        return [leg_result(leg, LegStatus.UNKNOWN, None, job.attempt, ref=cmd.client_id, reason=reason)]
