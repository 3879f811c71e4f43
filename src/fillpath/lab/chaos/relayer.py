"""The bridge's relayer in the chaos world: the lab relayer's rules (``lab/bridge/relayer.py``), on the world's clock.

The lab's relayer is a process that polls two anvil nodes over HTTP and sends from unlocked accounts; here the same
rules run after every block of either chain (``ChainWorld.on_block``), read the chains in-process and sign their
transactions (eth-tester's development keys: the relayer fills from its own inventory, the settler repays and refunds)
into the world's mempools, so reorgs act on them like on any transaction:

- a ``V3FundsDeposited`` log of a spoke pool in a mined block is a relay to fill on its destination;
- what it does with a relay is the lab relayer's own rule, ``lab/bridge/rules.py: decide`` (one module, so the two
  cannot drift): it fills it ``FILL_DELAY_S`` after it saw it (from its inventory, ``outputAmount`` exactly, never
  part of it), if the destination's clock is still before the fill deadline and its inventory covers it; once
  filled, the settler repays it on the origin; a relay it will not fill is refunded by the settler on the origin once
  the deadline has passed on both clocks (the contract refuses a refund before; a fill after it reverts).

Faults (``faults.py``, from the bridge's own random source ``bridge:SEED``): ``bridge_slow`` (a fill 20–200 s after
the deposit instead: past the leg's wait it is left unknown for recovery; past the deadline it is refunded),
``bridge_no_fill`` (never filled: refunded after the deadline), ``relayer_crash`` (the relayer dies when it sees a
deposit or has just sent a fill, stays down 10–100 s and forgets everything it held in memory: back, it rescans the
chains from the scenario's first block, as the lab's does; the chains are the truth); and, from a source of its own
(``liquidity:SEED``), ``bridge_liquidity`` (the lab's ``partial_liquidity``: the relayer fills at most a drawn amount
per relay of each token; a larger relay is not filled and is refunded after its deadline).

:meth:`ChaosRelayer.pending` is the venues' side of "ledger + in flight = venues" for the bridge: deposits whose
input the spoke pool holds and whose relay is not filled (read from the chains, not the relayer's memory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fillpath.chains import across
from fillpath.chains.abi import fn
from fillpath.lab.bridge import rules
from fillpath.lab.bridge.rules import fillable
from fillpath.lab.chaos.chain import ChainWorld, Pending
from fillpath.lab.chaos.clock import VirtualClock
from fillpath.lab.chaos.faults import Fault, FaultPlan
from fillpath.lab.contracts import spoke_pool as sp

RELAYER_KEY = (2).to_bytes(32, "big")
"""eth-tester's second development key: the ``Relayer`` of ``lab/bridge/setup.py`` (its inventory on both chains)."""
SETTLER_KEY = (3).to_bytes(32, "big")
"""The third: the spoke pools' ``Settler`` (repays relayers, refunds expired deposits)."""
FILL_DELAY_S = 1.0
FILL_DEADLINE_S = 120
"""The bridge legs' fill deadline (``BridgeRunner.fill_deadline_s`` in the world): a relay not filled by then is
refunded within the scenario's quiet period and recovery passes."""
GAS = 300_000


@dataclass
class _Relay:
    origin: str
    dep: across.Deposited
    seen_at: float
    fill_at: float | None
    """When the relayer fills it (None: it will not)."""
    sent: dict[str, str] = field(default_factory=dict)
    """What it sent for this relay (fill, repay, refund) → tx hash: it waits while one is in a mempool."""
    done: bool = False
    refused: rules.Refusal | None = None
    """Why it will not fill it (noted once)."""


@dataclass
class ChaosRelayer:
    chains: dict[str, ChainWorld]
    """By location: the chains the spoke pools are on."""
    faults: FaultPlan
    clock: VirtualClock
    log: Callable[[str], None]
    relays: dict[tuple[int, int], _Relay] = field(default_factory=dict)
    """The relayer process's memory (lost when it crashes)."""
    scanned: dict[str, set[str]] = field(default_factory=dict)
    down_until: float = -1.0
    deposits: dict[tuple[int, int], tuple[str, across.Deposited]] = field(default_factory=dict)
    """Every deposit ever seen in a block (the world's record for the invariants, kept across relayer crashes)."""
    fills: int = 0
    refunds: int = 0
    liquidity: dict[str, int] = field(default_factory=dict)
    """The most it fills in one relay, per output token address (lower case), in base units: the
    ``bridge_liquidity`` fault (the lab relayer's ``partial_liquidity``); absent: its inventory is the limit."""

    def __post_init__(self) -> None:
        for chain in self.chains.values():
            chain.on_block.append(self.step)
            for t in chain.lab.source.tokens:
                if t.symbol in self.faults.liquidity:
                    self.liquidity[t.address.lower()] = int(self.faults.liquidity[t.symbol].scaleb(t.decimals))

    def pool(self, location: str) -> str:
        return self.chains[location].lab.deployment.address("LabSpokePool")

    def _by_id(self, chain_id: int) -> ChainWorld | None:
        return next((c for c in self.chains.values() if c.lab.chain_id == chain_id), None)

    # --- one step, after a block on any chain -------------------------------------------------------------

    def step(self) -> None:
        now = self.clock.seconds()
        if now < self.down_until:
            return
        for location in sorted(self.chains):
            self._scan(location)
        for _, r in sorted(self.relays.items(), key=lambda kv: kv[0]):
            if self.clock.seconds() < self.down_until:
                return  # it crashed on the way (a relay it just filled): the rest waits for its restart
            if not r.done:
                self._act(r)

    def _crash(self, why: str) -> None:
        down = self.faults.bridge_rng.uniform(10, 100)
        self.down_until = self.clock.seconds() + down
        self.relays.clear()
        self.scanned.clear()
        self.log(f"relayer: CRASH ({why}); back in {down:.0f} s, rescanning the chains")

    def _scan(self, location: str) -> None:
        chain = self.chains[location]
        pool = self.pool(location).lower()
        scanned = self.scanned.setdefault(location, set())
        for tx_hash in list(chain.mined):
            if tx_hash in scanned:
                continue
            receipt = _receipt(chain, tx_hash)
            if receipt is None:  # un-mined by a reorg: looked at again once it mines
                continue
            scanned.add(tx_hash)
            for log in receipt.get("logs") or ():
                if str(log["address"]).lower() != pool:
                    continue
                dep = across.decode_deposited(log, chain.lab.chain_id)
                if dep is None:
                    continue
                key = (chain.lab.chain_id, dep.deposit_id)
                first = key not in self.deposits
                self.deposits[key] = (location, dep)
                if key in self.relays:
                    continue
                fill_at: float | None = self.clock.seconds() + FILL_DELAY_S
                what = "fills in 1 s"
                if self.faults.hit(Fault.BRIDGE_NO_FILL):
                    fill_at, what = None, "will NOT fill it (refund after the deadline)"
                elif self.faults.hit(Fault.BRIDGE_SLOW):
                    delay = self.faults.bridge_rng.uniform(20, 200)
                    fill_at, what = self.clock.seconds() + delay, f"fills it slowly, in {delay:.0f} s"
                self.relays[key] = _Relay(location, dep, self.clock.seconds(), fill_at)
                if first:
                    self.log(f"relayer: deposit {dep.deposit_id} on {location} "
                             f"({dep.relay.input_amount} → {dep.relay.output_amount}); {what}")  # fmt: skip
                if self.faults.hit(Fault.RELAYER_CRASH):
                    self._crash(f"saw deposit {dep.deposit_id} on {location}")
                    return

    def _act(self, r: _Relay) -> None:
        origin = self.chains[r.origin]
        dest = self._by_id(r.dep.destination_chain_id)
        if dest is None:
            r.done = True
            return
        if any(h in origin.mempool.txs or h in dest.mempool.txs for h in r.sent.values()):
            return  # something of ours is on its way
        view = self._view(r, origin, dest)
        action = rules.decide(view)
        if action is rules.Action.SETTLED:
            r.done = True  # repaid or refunded
        elif action is rules.Action.REPAY:
            r.sent["repay"] = self._send(origin, SETTLER_KEY, self.pool(r.origin),
                                         sp.repay_calldata(r.dep.deposit_id, _address(RELAYER_KEY)))  # fmt: skip
        elif action is rules.Action.FILL:
            r.sent["fill"] = self._send(dest, RELAYER_KEY, self.pool(dest.lab.location),
                                        sp.fill_calldata(_lab_relay(r.dep.relay)))  # fmt: skip
            self.fills += 1
            self.log(f"relayer: fills deposit {r.dep.deposit_id} of {r.origin} on {dest.lab.location}")
            if self.faults.hit(Fault.RELAYER_CRASH):
                self._crash(f"after filling deposit {r.dep.deposit_id}")
        elif action is rules.Action.REFUND:
            r.sent["refund"] = self._send(origin, SETTLER_KEY, self.pool(r.origin),
                                          sp.refund_calldata(r.dep.deposit_id))  # fmt: skip
            self.refunds += 1
            self.log(f"relayer: refunds deposit {r.dep.deposit_id} on {r.origin} "
                     f"(deadline {r.dep.relay.fill_deadline} passed)")  # fmt: skip
        elif action is rules.Action.AWAIT_DEADLINE and fillable(view) and r.refused is None:
            r.refused = rules.refusal(view)
            if r.refused is rules.Refusal.OVER_LIMIT:
                self.faults.note(Fault.BRIDGE_LIQUIDITY)
                self.log(f"relayer: will not fill deposit {r.dep.deposit_id} of {r.origin}: "
                         f"{r.dep.relay.output_amount} is over its liquidity {view.max_output}")  # fmt: skip

    def _view(self, r: _Relay, origin: ChainWorld, dest: ChainWorld) -> rules.RelayView:
        """What the chains say of ``r`` now, with the relayer's faults (``rules.RelayView``)."""
        record = self._read(origin, across.deposits_calldata(r.dep.deposit_id))
        status = self._read(dest, across.fill_status_calldata(r.dep.relay.relay_hash(dest.lab.chain_id)))
        fill_delay = None if r.fill_at is None else r.fill_at - r.seen_at
        return rules.RelayView(
            pending=across.decode_deposit_status(record) is across.DepositStatus.PENDING,
            filled=int.from_bytes(status[:32], "big") == across.FillStatus.FILLED,
            origin_time=_head_time(origin), dest_time=_head_time(dest), fill_deadline=r.dep.relay.fill_deadline,
            output_amount=r.dep.relay.output_amount, inventory=self._inventory(dest, r.dep.relay.output_token),
            waited_s=self.clock.seconds() - r.seen_at, fill_delay_s=fill_delay,
            max_output=self.liquidity.get(r.dep.relay.output_token.lower()),
        )  # fmt: skip

    def _inventory(self, chain: ChainWorld, token: str) -> int:
        """The relayer's balance of ``token`` on ``chain`` (an ``eth_call`` at the head)."""
        data = fn("ERC20", "balanceOf").encode(_address(RELAYER_KEY))
        out = chain._call("eth_call", [{"to": token, "data": "0x" + data.hex()}])
        return int(str(out), 16)

    def _send(self, chain: ChainWorld, key: bytes, to: str, data: bytes) -> str:
        sender = _address(key)
        t = chain.lab.tester
        nonce = int(t.get_nonce(sender, "latest"))
        nonce = max([nonce, *(p.nonce + 1 for p in chain.mempool.txs.values() if p.sender == sender)])
        fee = chain._base_fee() * 2 + 10**9
        tx: dict[str, Any] = {"to": to, "data": "0x" + data.hex(), "value": 0, "gas": GAS, "nonce": nonce,
                              "chainId": chain.lab.chain_id, "maxFeePerGas": fee, "maxPriorityFeePerGas": 10**9,
                              "type": 2}  # fmt: skip
        raw = bytes(Account.sign_transaction(tx, key).raw_transaction)
        tx_hash = "0x" + keccak(raw).hex()
        chain.mempool.add(Pending(tx_hash, sender, nonce, raw, fee))
        return tx_hash

    # --- the world's evidence -------------------------------------------------------------------------------

    def _state(self, location: str, dep: across.Deposited) -> str:
        """``pending`` (the spoke pool holds the input, the relay is not filled), ``filled`` or ``refunded``: from
        the chains."""
        origin, dest = self.chains[location], self._by_id(dep.destination_chain_id)
        if across.decode_deposit_status(self._read(origin, across.deposits_calldata(dep.deposit_id))) is (
            across.DepositStatus.REFUNDED
        ):
            return "refunded"
        if dest is not None:
            status = self._read(dest, across.fill_status_calldata(dep.relay.relay_hash(dest.lab.chain_id)))
            if int.from_bytes(status[:32], "big") == across.FillStatus.FILLED:
                return "filled"
        return "pending"

    def _read(self, chain: ChainWorld, data: bytes) -> bytes:
        """An ``eth_call`` to ``chain``'s spoke pool at its head (the relayer's reads meet no RPC fault)."""
        out = chain._call("eth_call", [{"to": self.pool(chain.lab.location), "data": "0x" + data.hex()}])
        return bytes.fromhex(str(out)[2:])

    def pending(self, decimals: dict[str, dict[str, int]]) -> dict[str, Decimal]:
        """Per symbol (human units): what the spoke pools hold for relays not filled (deposits not refunded whose
        relay the destination has not filled), read from the chains."""
        out: dict[str, Decimal] = {}
        for _, (location, dep) in sorted(self.deposits.items()):
            if self._state(location, dep) != "pending":
                continue
            symbols = {t.address.lower(): t.symbol for t in self.chains[location].lab.source.tokens}
            symbol = symbols[dep.relay.input_token.lower()]
            amount = Decimal(dep.relay.input_amount).scaleb(-decimals[location][symbol])
            out[symbol] = out.get(symbol, Decimal(0)) + amount
        return out

    def ended(self) -> set[tuple[str, str]]:
        """(origin location, deposit id) of every deposit the chains say is over: filled or refunded."""
        return {(location, str(dep.deposit_id)) for location, dep in self.deposits.values()
                if self._state(location, dep) != "pending"}  # fmt: skip


def _address(key: bytes) -> str:
    return str(Account.from_key(key).address)


def _receipt(chain: ChainWorld, tx_hash: str) -> dict[str, Any] | None:
    try:
        r = chain.lab.tester.get_transaction_receipt(tx_hash)
    except Exception:
        return None
    if r is None or r.get("block_number") is None:
        return None
    out: dict[str, Any] = r
    return out


def _head_time(chain: ChainWorld) -> int:
    return int(chain.lab.tester.get_block_by_number("latest")["timestamp"])


def _lab_relay(r: across.Relay) -> sp.RelayData:
    cs = to_checksum_address
    return sp.RelayData(cs(r.depositor), cs(r.recipient), cs(r.exclusive_relayer), cs(r.input_token),
                        cs(r.output_token), r.input_amount, r.output_amount, r.origin_chain_id, r.deposit_id,
                        r.fill_deadline, r.exclusivity_deadline, r.message)  # fmt: skip
