"""The exchange's wallet in the chaos world: deposits from the chain and withdrawals to it, on the world's clock.

It answers the engine's ``ExchangeWallet`` protocol (``cex/wallet.py``) for the in-process venue (``exchange.py``)
over the world's chain (``chain.py``), the way the simulator's capital endpoints do over anvil
(``lab/exchange/capital.py``): one deposit address per account for every coin (``COINS``: USDC, a token, and ETH,
the chain's native coin); a USDC transfer or an ETH payment to it seen in a mined block is a deposit, credited to the
account ``CONFIRMATIONS`` blocks later (if its block is still canonical then); a withdrawal takes ``amount`` (fee
included) from the account at once, and the exchange's hot wallet sends ``amount − fee`` to the address a few seconds
later (a token transfer, or a plain payment of ETH from its ETH hot wallet), through the world's mempool like any
transaction.

Faults (``faults.py``): ``deposit_late`` (a confirmed deposit is credited 5–90 s late), ``withdraw_stuck`` (a
withdrawal stays "processing" 30–400 s before it is sent), ``withdraw_fail`` (the exchange fails it: the amount is
back in the account), ``wallet_reply_lost`` (a withdrawal request reaches the exchange, its reply is lost); every
wallet read can meet the venue's latency, 5xx and 429.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak

from fillpath.chains.abi import fn
from fillpath.lab.chaos.chain import CHAIN, HOT_KEY, ChainWorld, Pending
from fillpath.lab.chaos.clock import VirtualClock
from fillpath.lab.chaos.exchange import InProcessVenue
from fillpath.lab.chaos.faults import Fault, FaultPlan
from fillpath.model.commands import RequestWithdrawal
from fillpath.model.errors import Ambiguous, Rejected, Retryable
from fillpath.model.reports import TransferStatus, TransferStatusReport

HOT_WALLET = Account.from_key(HOT_KEY).address
ETH_HOT_KEY = (10).to_bytes(32, "big")
"""The exchange's ETH hot wallet: eth-tester's tenth development key (1,000,000 ETH in every chain's genesis, used by
nothing else in the world), so ETH withdrawals need no change to the deployed lab (whose hot wallet holds 100 ETH)."""
ETH_HOT_WALLET = Account.from_key(ETH_HOT_KEY).address
DEPOSIT_ADDRESS = "0x" + keccak(b"fillpath chaos deposit address")[-20:].hex()
"""The account's deposit address on the chain (keyless: the exchange books what arrives there)."""
NETWORK = "LAB1"


@dataclass(frozen=True, slots=True)
class Coin:
    """A coin the exchange takes and pays out over the chain: ``token`` the lab deployment's name of its ERC-20, or
    None for the native coin; fee and minimum in human units."""

    symbol: str
    decimals: int
    token: str | None
    fee: Decimal
    minimum: Decimal


COINS = {
    "USDC": Coin("USDC", 6, "USDC", Decimal(1), Decimal(10)),
    "ETH": Coin("ETH", 18, None, Decimal("0.001"), Decimal("0.01")),
}
COIN = "USDC"
DECIMALS = 6
WITHDRAW_FEE = COINS[COIN].fee
WITHDRAW_MIN = COINS[COIN].minimum
CONFIRMATIONS = 2
"""Blocks a deposit waits for before it is credited."""
WITHDRAW_DELAY_S = 3.0
"""Seconds between a withdrawal's acceptance and the hot wallet's transaction."""
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


@dataclass
class _Deposit:
    ref: str
    tx_hash: str
    coin: str
    amount: Decimal
    block: int
    credit_at: float = 0.0
    """Virtual seconds at which it is credited (set once confirmed)."""
    status: TransferStatus = TransferStatus.PENDING


@dataclass
class _Withdrawal:
    ref: str
    client_id: str
    coin: str
    address: str
    amount: Decimal
    send_at: float
    fail: bool = False
    status: TransferStatus = TransferStatus.PENDING
    raw_status: str = "processing"
    tx_hash: str | None = None


@dataclass
class ChaosWallet:
    """The exchange account's wallet (``ExchangeWallet``), on the venue's matching engine and the world's chain."""

    venue: InProcessVenue
    chain: ChainWorld
    faults: FaultPlan
    clock: VirtualClock
    log: Callable[[str], None]
    deposits_seen: dict[str, _Deposit] = field(default_factory=dict)
    withdrawals_made: dict[str, _Withdrawal] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _scanned: set[str] = field(default_factory=set)

    @property
    def location(self) -> str:
        return self.venue.location

    # --- the protocol ---------------------------------------------------------------------------------------

    async def _read(self, what: str) -> None:
        try:
            await self.venue._enter(what)
        except Exception as exc:  # the venue's ccxt errors, as the engine's wallet adapters raise them
            raise Retryable(f"{self.location}: {what}: {type(exc).__name__}", retry_after=1.0) from None

    async def deposit_address(self, coin: str, network: str) -> str:
        await self._read("deposit address")
        if coin not in COINS or network != NETWORK:
            raise Rejected(f"{self.location}: no deposits of {coin} over {network}", reason="route")
        return DEPOSIT_ADDRESS

    async def deposits(self, coin: str, *, tx_id: str | None = None) -> list[TransferStatusReport]:
        await self._read("deposit history")
        return [self._report(d) for d in self.deposits_seen.values()
                if d.coin == coin and (tx_id is None or d.tx_hash == tx_id)]  # fmt: skip

    async def withdraw(self, cmd: RequestWithdrawal) -> str:
        await self._read("withdraw")
        known = self.withdrawals_made.get(cmd.client_id)
        if known is not None:  # the same client id: the first one's id, nothing moves again
            return known.ref
        coin = COINS.get(cmd.coin)
        if coin is None or cmd.network != NETWORK:
            raise Rejected(f"{self.location}: no withdrawals of {cmd.coin} over {cmd.network}", reason="route")
        if cmd.amount < coin.minimum:
            raise Rejected(f"{self.location}: {cmd.amount} is below the minimum {coin.minimum}", reason="minimum")
        account = self.venue.engine.account(self.venue.apiKey)
        have = account.line(coin.symbol).free
        if have < cmd.amount:
            raise Rejected(f"{self.location}: insufficient {coin.symbol}: {have} < {cmd.amount}", reason="funds")
        self.venue.engine.set_balances(self.venue.apiKey, {coin.symbol: have - cmd.amount})
        delay = WITHDRAW_DELAY_S
        if self.faults.hit(Fault.WITHDRAW_STUCK):
            delay += self.faults.rng.uniform(30, 400)
            self.log(f"wallet {self.location}: withdrawal {cmd.client_id} stuck processing for {delay:.0f} s")
        w = _Withdrawal(f"w{next(self._ids)}", cmd.client_id, coin.symbol, cmd.address, cmd.amount,
                        self.clock.seconds() + delay)  # fmt: skip
        w.fail = self.faults.hit(Fault.WITHDRAW_FAIL)
        self.withdrawals_made[cmd.client_id] = w
        self.log(f"wallet {self.location}: withdrawal {cmd.client_id} of {cmd.amount} {coin.symbol} accepted as {w.ref}"
                 + (" (it will fail)" if w.fail else ""))  # fmt: skip
        if self.faults.hit(Fault.WALLET_REPLY_LOST):
            self.log(f"wallet {self.location}: the reply to withdrawal {cmd.client_id} is lost")
            raise Ambiguous(f"{self.location}: withdraw timed out; the outcome is unknown")
        return w.ref

    async def withdrawals(self, coin: str, *, client_id: str | None = None) -> list[TransferStatusReport]:
        await self._read("withdrawal history")
        return [self._report(w) for w in self.withdrawals_made.values()
                if w.coin == coin and (client_id is None or w.client_id == client_id)]  # fmt: skip

    def _report(self, x: _Deposit | _Withdrawal) -> TransferStatusReport:
        if isinstance(x, _Deposit):
            return TransferStatusReport(self.location, x.ref, x.status, str(x.status), x.coin, x.amount,
                                        tx_hash=x.tx_hash, address=DEPOSIT_ADDRESS, network=NETWORK)  # fmt: skip
        return TransferStatusReport(self.location, x.ref, x.status, x.raw_status, x.coin, x.amount,
                                    COINS[x.coin].fee, x.client_id, x.tx_hash, x.address, NETWORK)  # fmt: skip

    def _credit(self, coin: str, amount: Decimal) -> None:
        have = self.venue.engine.account(self.venue.apiKey).line(coin).free
        self.venue.engine.set_balances(self.venue.apiKey, {coin: have + amount})

    # --- the exchange's side, after every block ---------------------------------------------------------------

    def on_block(self) -> None:
        """Deposits seen in new blocks, credits due, withdrawals due to be sent or failed, sent ones mined."""
        t = self.chain.lab.tester
        head = int(t.get_block_by_number("latest")["number"])
        now = self.clock.seconds()
        for tx_hash, height in list(self.chain.mined.items()):
            if tx_hash in self.deposits_seen or tx_hash in self._scanned:
                continue
            self._scanned.add(tx_hash)
            found = self._to_deposit(tx_hash)
            if found is not None:
                coin, amount = found
                d = _Deposit(f"d{next(self._ids)}", tx_hash, coin, amount, height)
                self.deposits_seen[tx_hash] = d
                self.log(f"wallet {self.location}: deposit {tx_hash[:10]} of {amount} {coin} seen at block {height}")
        for d in self.deposits_seen.values():
            if d.status is not TransferStatus.PENDING:
                continue
            if not self._canonical(d.tx_hash):  # its block went away (a reorg): not a deposit until it mines again
                continue
            d.block = self.chain.mined.get(d.tx_hash, d.block)  # mined again (its bytes re-sent after a lost reorg):
            # its confirmations count from the block it is in now, not the one a reorg took away
            if d.credit_at == 0.0 and head - d.block + 1 >= CONFIRMATIONS:
                d.credit_at = now
                if self.faults.hit(Fault.DEPOSIT_LATE):
                    d.credit_at += self.faults.rng.uniform(5, 90)
                    self.log(f"wallet {self.location}: deposit {d.tx_hash[:10]} credited late, at {d.credit_at:.0f} s")
            if d.credit_at and now >= d.credit_at:
                self._credit(d.coin, d.amount)
                d.status = TransferStatus.CREDITED
                self.log(f"wallet {self.location}: deposit {d.tx_hash[:10]} credited ({d.amount} {d.coin})")
        for w in self.withdrawals_made.values():
            if w.status is not TransferStatus.PENDING:
                continue
            if w.tx_hash is None and now >= w.send_at:
                if w.fail:
                    self._credit(w.coin, w.amount)
                    w.status, w.raw_status = TransferStatus.FAILED, "failure"
                    self.log(f"wallet {self.location}: withdrawal {w.client_id} failed; {w.amount} {w.coin} back")
                    continue
                w.tx_hash = self._send(w)
                self.log(f"wallet {self.location}: withdrawal {w.client_id} sent as {w.tx_hash[:10]}")
        for w in self.withdrawals_made.values():  # sent: completed while its block is canonical (a reorg un-mines)
            if w.tx_hash is not None and w.status is not TransferStatus.FAILED:
                landed = self._canonical(w.tx_hash)
                w.status = TransferStatus.CREDITED if landed else TransferStatus.PENDING
                w.raw_status = "completed" if landed else "processing"

    def _canonical(self, tx_hash: str) -> bool:
        try:
            r = self.chain.lab.tester.get_transaction_receipt(tx_hash)
        except Exception:
            return False
        return r is not None and r.get("block_number") is not None

    def _to_deposit(self, tx_hash: str) -> tuple[str, Decimal] | None:
        """What ``tx_hash`` paid the deposit address (coin, human units): USDC from its receipt's transfer logs, or
        the ETH it carried there (a successful payment), or None."""
        try:
            r = self.chain.lab.tester.get_transaction_receipt(tx_hash)
        except Exception:
            return None
        usdc = self.usdc.lower()
        total = 0
        for log in r.get("logs") or ():
            topics = [_hex(x) for x in log["topics"]]
            if (len(topics) == 3 and topics[0] == TRANSFER_TOPIC and str(log["address"]).lower() == usdc
                    and "0x" + topics[2][-40:] == DEPOSIT_ADDRESS.lower()):  # fmt: skip
                total += int.from_bytes(bytes(log["data"]) if not isinstance(log["data"], str)
                                        else bytes.fromhex(log["data"][2:]), "big")  # fmt: skip
        if total:
            return COIN, Decimal(total).scaleb(-DECIMALS)
        if str(r.get("to") or "").lower() != DEPOSIT_ADDRESS.lower() or int(r.get("status", 0)) != 1:
            return None
        value = int(self.chain.lab.tester.get_transaction_by_hash(tx_hash)["value"])
        return ("ETH", Decimal(value).scaleb(-COINS["ETH"].decimals)) if value else None

    @property
    def usdc(self) -> str:
        return self.chain.lab.deployment.address("USDC")

    def _send(self, w: _Withdrawal) -> str:
        """The hot wallet's payment of ``amount − fee`` to the address, into the world's mempool: a token transfer
        (USDC), or ETH from the ETH hot wallet."""
        coin = COINS[w.coin]
        units = int((w.amount - coin.fee).scaleb(coin.decimals))
        if coin.token is None:
            key, to, value, data, gas = ETH_HOT_KEY, w.address, units, b"", 21_000
        else:
            token = self.chain.lab.deployment.address(coin.token)
            key, to, value, data, gas = HOT_KEY, token, 0, fn("ERC20", "transfer").encode(w.address, units), 100_000
        sender = Account.from_key(key).address
        nonce = int(self.chain.lab.tester.get_nonce(sender, "latest"))
        nonce = max([nonce, *(p.nonce + 1 for p in self.chain.mempool.txs.values() if p.sender == sender)])
        fee = self.chain._base_fee() * 2 + 10**9
        tx: dict[str, Any] = {"to": to, "data": "0x" + data.hex(), "value": value, "gas": gas, "nonce": nonce,
                              "chainId": self.chain.lab.chain_id, "maxFeePerGas": fee, "maxPriorityFeePerGas": 10**9,
                              "type": 2}  # fmt: skip
        raw = bytes(Account.sign_transaction(tx, key).raw_transaction)
        tx_hash = "0x" + keccak(raw).hex()
        self.chain.mempool.add(Pending(tx_hash, sender, nonce, raw, fee))
        return tx_hash

    def pending(self, coin: str = COIN) -> Decimal:
        """What the exchange holds in flight for the account in ``coin``: deposits seen and not credited, withdrawals
        taken and not landed (fee included) — the venues' side of "ledger + in flight = venues"."""
        deposits = sum((d.amount for d in self.deposits_seen.values() if d.coin == coin
                        and d.status is TransferStatus.PENDING and self._canonical(d.tx_hash)), Decimal(0))  # fmt: skip
        withdrawals = sum((w.amount for w in self.withdrawals_made.values()
                           if w.coin == coin and w.status is TransferStatus.PENDING), Decimal(0))  # fmt: skip
        return deposits + withdrawals

    def pending_refs(self) -> set[str]:
        """The refs (and client ids, and transaction hashes) of the transfers the exchange still has pending."""
        out = {x for w in self.withdrawals_made.values() if w.status is TransferStatus.PENDING
               for x in (w.ref, w.client_id)}  # fmt: skip
        out |= {x for d in self.deposits_seen.values() if d.status is TransferStatus.PENDING
                for x in (d.ref, d.tx_hash)}  # fmt: skip
        return out

    def landed_refs(self) -> set[str]:
        """The refs of the transfers the exchange completed (credited deposits, landed withdrawals)."""
        out = {x for w in self.withdrawals_made.values() if w.status is TransferStatus.CREDITED
               for x in (w.ref, w.client_id)}  # fmt: skip
        return out | {x for d in self.deposits_seen.values() if d.status is TransferStatus.CREDITED
                      for x in (d.ref, d.tx_hash)}  # fmt: skip


def _hex(x: object) -> str:
    if isinstance(x, bytes | bytearray):
        return "0x" + bytes(x).hex()
    return str(x).lower()


__all__ = ["CHAIN", "COINS", "DEPOSIT_ADDRESS", "ETH_HOT_WALLET", "HOT_WALLET", "ChaosWallet", "Coin"]
