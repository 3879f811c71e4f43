"""The simulator's wallet: deposits and withdrawals on the lab chains, behind Binance's capital endpoints.

ccxt's ``binance`` calls these unmodified (``fetch_deposit_address``, ``fetch_deposits``, ``withdraw``,
``fetch_withdrawals``), signed like every other ``sapi`` request:

- ``GET  /sapi/v1/capital/deposit/address`` (``coin``, ``network``): the account's address on that network (one
  per account and network, derived from the simulator's seed, the API key and the network — a keyless address: the
  exchange "sweeps" it by bookkeeping);
- ``GET  /sapi/v1/capital/deposit/hisrec`` (``coin``, ``status``, ``txId``, ``startTime``, ``endTime``, ``limit``):
  ``status`` 0 pending (``confirmTimes`` "k/N"), 6 credited but not withdrawable, 1 success;
- ``POST /sapi/v1/capital/withdraw/apply`` (``coin``, ``network``, ``address``, ``amount``, ``withdrawOrderId``)
  → ``{"id"}``: the amount (fee included) leaves the account at once; a second request under the same
  ``withdrawOrderId`` gets the first one's id and moves nothing;
- ``GET  /sapi/v1/capital/withdraw/history`` (``coin``, ``withdrawOrderId``, ``status``, ``limit``): ``status`` 4
  processing, 6 completed (``txId`` set: sent and mined), 5 failure (the amount is back in the account).

A watcher per network follows the chain: a transfer of a listed token (or native coin) to a deposit address is a
deposit, credited once ``confirmations`` blocks hold it. The lab's chains mine only when a transaction arrives, so
while a deposit waits for confirmations the watcher mines an empty block every ``block_s`` (a real chain produces
them anyway). A deposit whose block is gone (the chain went back) is dropped before it is credited. Withdrawals
are sent from the network's hot wallet (an unlocked anvil account), ``amount − fee`` of the coin.

Faults (``/admin/faults`` like the others; see ``faults.PROFILES``): ``delayed_credit`` (``delay`` seconds more
before a confirmed deposit is credited), ``withdraw_stuck`` (withdrawals stay "processing" while it is on),
``withdraw_phantom`` (a withdrawal is reported completed with a transaction hash that never reaches the chain),
``withdraw_fail`` (the withdrawal fails: status 5, the amount returned).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from aiohttp import web
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fillpath.chains.abi import fn
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.lab.chains import unlocked
from fillpath.lab.exchange.engine import Engine
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.faults import Faults
from fillpath.lab.exchange.orders import fmt
from fillpath.model.amounts import parse_decimal

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


@dataclass(frozen=True, slots=True)
class CoinOnNetwork:
    coin: str
    token: str | None
    """The ERC-20 on the chain; None: the chain's native coin."""
    decimals: int
    withdraw_fee: Decimal
    withdraw_min: Decimal


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    name: str
    rpc: str
    chain_id: int
    hot_wallet: str
    confirmations: int
    coins: tuple[CoinOnNetwork, ...]
    block_s: float = 0.2
    withdraw_delay_s: float = 0.2

    def coin(self, coin: str) -> CoinOnNetwork | None:
        return next((c for c in self.coins if c.coin == coin), None)


def networks_from(raw: Mapping[str, Any]) -> tuple[NetworkSpec, ...]:
    """The ``networks`` section of the simulator's config (JSON): name → rpc, chain id, hot wallet, coins."""
    out = []
    for name, n in raw.items():
        coins = tuple(
            CoinOnNetwork(c, v.get("token"), int(v["decimals"]),
                          parse_decimal(str(v.get("withdraw_fee", "0")), field="withdraw_fee"),
                          parse_decimal(str(v.get("withdraw_min", "0")), field="withdraw_min"))
            for c, v in n["coins"].items()
        )  # fmt: skip
        out.append(NetworkSpec(name, n["rpc"], int(n["chain_id"]), n["hot_wallet"], int(n.get("confirmations", 1)),
                               coins, float(n.get("block_s", 0.2)), float(n.get("withdraw_delay_s", 0.2))))  # fmt: skip
    return tuple(out)


@dataclass
class DepositRecord:
    id: str
    api_key: str
    coin: str
    network: str
    amount: Decimal
    address: str
    tx_hash: str
    block: int
    insert_ms: int
    status: int = 0
    confirmations: int = 0
    confirmed_at: float | None = None
    complete_ms: int | None = None

    def json(self, required: int) -> dict[str, Any]:
        return {
            "id": self.id, "amount": fmt(self.amount), "coin": self.coin, "network": self.network,
            "status": self.status, "address": self.address, "addressTag": "", "txId": self.tx_hash,
            "insertTime": self.insert_ms, "completeTime": self.complete_ms, "transferType": 0,
            "confirmTimes": f"{min(self.confirmations, required)}/{required}", "unlockConfirm": required * 2,
            "walletType": 0,
        }  # fmt: skip


@dataclass
class WithdrawRecord:
    id: str
    api_key: str
    coin: str
    network: str
    address: str
    amount: Decimal
    fee: Decimal
    client_id: str | None
    apply_ms: int
    status: int = 4
    tx_hash: str | None = None
    info: str = ""
    complete_ms: int | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "amount": fmt(self.amount), "transactionFee": fmt(self.fee), "coin": self.coin,
            "status": self.status, "address": self.address, "txId": self.tx_hash or "",
            "applyTime": datetime.fromtimestamp(self.apply_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "network": self.network, "transferType": 0, "info": self.info, "confirmNo": 1 if self.tx_hash else 0,
            "walletType": 0, "txKey": "",
        }  # fmt: skip
        if self.client_id:
            out["withdrawOrderId"] = self.client_id
        if self.complete_ms is not None:
            out["completeTime"] = datetime.fromtimestamp(self.complete_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return out


class CapitalVenue(Protocol):
    """What the capital routes reach of the venue (``venue.SimVenue``), named here so the two do not import each
    other."""

    engine: Engine
    faults: Faults

    async def signed(self, request: web.Request) -> tuple[str, dict[str, str]]: ...
    def now_ms(self) -> int: ...


@dataclass
class CapitalDesk:
    venue: CapitalVenue
    networks: tuple[NetworkSpec, ...]
    seed: int = 0
    deposits: list[DepositRecord] = field(default_factory=list)
    withdrawals: list[WithdrawRecord] = field(default_factory=list)
    _rpcs: dict[str, RpcClient] = field(default_factory=dict)
    _cursors: dict[str, int] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def network(self, name: str) -> NetworkSpec:
        found = next((n for n in self.networks if n.name == name), None)
        if found is None:
            raise BinanceError(-4019, "Current asset is not open for withdrawal.")
        return found

    def rpc(self, n: NetworkSpec) -> RpcClient:
        if n.name not in self._rpcs:
            self._rpcs[n.name] = RpcClient(n.name, (n.rpc,), timeout_s=5.0)
        return self._rpcs[n.name]

    def address(self, api_key: str, network: str) -> str:
        """The account's deposit address on ``network`` (the same for every coin, as on EVM networks)."""
        return to_checksum_address(keccak(text=f"fillpath-sim:{self.seed}:{api_key}:{network}")[-20:])

    # --- routes -------------------------------------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/sapi/v1/capital/deposit/address", self.deposit_address)
        router.add_get("/sapi/v1/capital/deposit/hisrec", self.deposit_history)
        router.add_post("/sapi/v1/capital/withdraw/apply", self.withdraw_apply)
        router.add_get("/sapi/v1/capital/withdraw/history", self.withdraw_history)
        router.add_get("/admin/capital", self.admin)

    def _coin(self, params: Mapping[str, str], *, network_required: bool = True) -> tuple[NetworkSpec, CoinOnNetwork]:
        coin = params.get("coin", "")
        name = params.get("network") or (self.networks[0].name if self.networks and not network_required else "")
        n = self.network(name)
        c = n.coin(coin)
        if c is None:
            raise BinanceError(-4018, "We don't have this asset.")
        return n, c

    async def deposit_address(self, request: web.Request) -> web.Response:
        api_key, params = await self.venue.signed(request)
        n, c = self._coin(params, network_required=False)
        return web.json_response({"coin": c.coin, "address": self.address(api_key, n.name), "tag": "", "url": ""})

    async def deposit_history(self, request: web.Request) -> web.Response:
        api_key, params = await self.venue.signed(request)
        rows = [d for d in self.deposits if d.api_key == api_key]
        for key, attr in (("coin", "coin"), ("txId", "tx_hash")):
            if params.get(key):
                rows = [d for d in rows if str(getattr(d, attr)).lower() == params[key].lower()]
        if params.get("status"):
            rows = [d for d in rows if str(d.status) == params["status"]]
        limit = int(params.get("limit") or 1000)
        required = {n.name: n.confirmations for n in self.networks}
        return web.json_response([d.json(required.get(d.network, 1)) for d in reversed(rows)][:limit])

    async def withdraw_apply(self, request: web.Request) -> web.Response:
        api_key, params = await self.venue.signed(request)
        n, c = self._coin(params)
        client_id = params.get("withdrawOrderId") or None
        if client_id is not None:
            for w in self.withdrawals:
                if w.api_key == api_key and w.client_id == client_id:
                    return web.json_response({"id": w.id})  # the same request again: the first one's id
        address = params.get("address", "")
        try:
            address = to_checksum_address(address)
        except ValueError:
            raise BinanceError(-4033, "Illegal address.") from None
        try:
            amount = parse_decimal(params.get("amount", ""), field="amount")
        except Exception:
            raise BinanceError(-1100, "Illegal characters found in parameter 'amount'.") from None
        if amount < c.withdraw_min:
            raise BinanceError(-4022, f"Not less than the minimum pick-up quantity {fmt(c.withdraw_min)}.")
        if amount <= c.withdraw_fee:
            raise BinanceError(-4028, "The amount of withdrawal must be greater than the Commission.")
        net = amount - c.withdraw_fee
        if net != net.quantize(Decimal(1).scaleb(-c.decimals)):
            raise BinanceError(-4021, f"Asset withdrawal must be a multiple of {fmt(Decimal(1).scaleb(-c.decimals))}.")
        account = self.venue.engine.account(api_key)
        have = account.line(c.coin).free
        if have < amount:
            raise BinanceError(-4026, "You have insufficient balance.")
        self.venue.engine.set_balances(api_key, {c.coin: have - amount})
        w = WithdrawRecord(secrets.token_hex(16), api_key, c.coin, n.name, address, amount, c.withdraw_fee, client_id,
                           self.venue.now_ms())  # fmt: skip
        self.withdrawals.append(w)
        self._tasks.append(asyncio.get_running_loop().create_task(self._process(w, n, c)))
        return web.json_response({"id": w.id})

    async def withdraw_history(self, request: web.Request) -> web.Response:
        api_key, params = await self.venue.signed(request)
        rows = [w for w in self.withdrawals if w.api_key == api_key]
        if params.get("coin"):
            rows = [w for w in rows if w.coin == params["coin"]]
        if params.get("withdrawOrderId"):
            rows = [w for w in rows if w.client_id == params["withdrawOrderId"]]
        if params.get("status"):
            rows = [w for w in rows if str(w.status) == params["status"]]
        limit = int(params.get("limit") or 1000)
        return web.json_response([w.json() for w in reversed(rows)][:limit])

    async def admin(self, _request: web.Request) -> web.Response:
        return web.json_response({"deposits": [_plain(asdict(d)) for d in self.deposits],
                                  "withdrawals": [_plain(asdict(w)) for w in self.withdrawals]})  # fmt: skip

    def record_external(self, api_key: str, changes: Mapping[str, Decimal]) -> None:
        """Balances an operator set from outside (``POST /admin/balances`` with ``record``: what ``lab fund`` does)
        appear in the account's history as a real exchange shows money moved in or out by someone else: an
        internal deposit (credited at once) or withdrawal (completed at once), network ``internal``."""
        now = self.venue.now_ms()
        for coin, delta in changes.items():
            ref = secrets.token_hex(8)
            if delta > 0:
                self.deposits.append(DepositRecord(ref, api_key, coin, "internal", delta, "", f"internal:{ref}", 0, now,
                                                   status=1, complete_ms=now))  # fmt: skip
            elif delta < 0:
                self.withdrawals.append(WithdrawRecord(ref, api_key, coin, "internal", "", -delta, Decimal(0), None,
                                                       now, status=6, info="internal transfer out",
                                                       complete_ms=now))  # fmt: skip

    # --- withdrawals --------------------------------------------------------------------------------------------

    async def _process(self, w: WithdrawRecord, n: NetworkSpec, c: CoinOnNetwork) -> None:
        faults = self.venue.faults
        await asyncio.sleep(n.withdraw_delay_s)
        while faults.on("withdraw_stuck"):
            await asyncio.sleep(0.1)
        if faults.on("withdraw_fail"):
            have = self.venue.engine.account(w.api_key).line(w.coin).free
            self.venue.engine.set_balances(w.api_key, {w.coin: have + w.amount})
            w.status, w.info = 5, "withdrawal failed: the amount is back in the account"
            return
        units = int((w.amount - w.fee).scaleb(c.decimals))
        if faults.on("withdraw_phantom"):
            w.tx_hash, w.status, w.complete_ms = "0x" + secrets.token_hex(32), 6, self.venue.now_ms()
            return
        rpc = self.rpc(n)
        if c.token is None:
            receipt = await unlocked.send(rpc, n.hot_wallet, w.address, b"", value=units, gas=21_000)
        else:
            receipt = await unlocked.send(rpc, n.hot_wallet, c.token, fn("ERC20", "transfer").encode(w.address, units))
        w.tx_hash = str(receipt["transactionHash"])
        if hex_int(receipt["status"]) == 1:
            w.status, w.complete_ms = 6, self.venue.now_ms()
        else:
            have = self.venue.engine.account(w.api_key).line(w.coin).free
            self.venue.engine.set_balances(w.api_key, {w.coin: have + w.amount})
            w.status, w.info = 5, "the transaction reverted: the amount is back in the account"

    # --- deposits -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for n in self.networks:
            self._tasks.append(loop.create_task(self._watch(n)))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for rpc in self._rpcs.values():
            await rpc.close()

    async def _watch(self, n: NetworkSpec) -> None:
        last_mined = time.monotonic()
        waiting: list[DepositRecord] = []
        while True:
            try:
                await self._scan(n)
                waiting = [d for d in self.deposits if d.network == n.name and d.status == 0]
                if waiting and time.monotonic() - last_mined >= n.block_s:
                    await self.rpc(n).request("evm_mine", [])  # the lab chain mines only on transactions
                    last_mined = time.monotonic()
            except Exception:  # a node restarting or a revert: look again next time
                await asyncio.sleep(0.5)
            await asyncio.sleep(0.05 if waiting else 0.2)  # idle, a block is all there is to notice

    async def _scan(self, n: NetworkSpec) -> None:
        rpc = self.rpc(n)
        head = hex_int(await rpc.request("eth_blockNumber", []))
        start = self._cursors.get(n.name)
        if start is None or head < start - 1:  # first look, or the chain went back: forget unconfirmed deposits
            self.deposits = [d for d in self.deposits if not (d.network == n.name and d.status == 0 and
                                                              (start is not None and d.block > head))]  # fmt: skip
            start = head if start is None else max(0, head - 1)
        ours = {self.address(k, n.name).lower(): k for k in self.venue.engine.accounts}
        if start <= head:
            await self._find(n, rpc, ours, start, head)
        self._cursors[n.name] = head + 1
        await self._confirm(n, rpc, head)

    async def _find(self, n: NetworkSpec, rpc: RpcClient, ours: Mapping[str, str], start: int, head: int) -> None:
        known = {d.tx_hash.lower() for d in self.deposits}
        tokens = {c.token.lower(): c for c in n.coins if c.token}
        if tokens:
            query = {"address": list(tokens), "topics": [TRANSFER_TOPIC], "fromBlock": hex(start),
                     "toBlock": hex(head)}  # fmt: skip
            for log in await rpc.request("eth_getLogs", [query]):
                to = "0x" + str(log["topics"][2])[-40:]
                c = tokens.get(str(log["address"]).lower())
                if to.lower() in ours and c is not None and str(log["transactionHash"]).lower() not in known:
                    units = int(str(log["data"]), 16)
                    self._add(
                        n, c, ours[to.lower()], to, units, str(log["transactionHash"]), hex_int(log["blockNumber"])
                    )
        native = next((c for c in n.coins if c.token is None), None)
        if native is None:
            return
        for number in range(start, head + 1):
            block = await rpc.request("eth_getBlockByNumber", [hex(number), True])
            for tx in (block or {}).get("transactions", []):
                to = str(tx.get("to") or "").lower()
                if to in ours and hex_int(tx["value"]) > 0 and str(tx["hash"]).lower() not in known:
                    receipt = await rpc.request("eth_getTransactionReceipt", [tx["hash"]])
                    if receipt is not None and hex_int(receipt["status"]) == 1:
                        self._add(n, native, ours[to], to, hex_int(tx["value"]), str(tx["hash"]), number)

    def _add(self, n: NetworkSpec, c: CoinOnNetwork, api_key: str, to: str, units: int, tx: str, block: int) -> None:
        amount = Decimal(units).scaleb(-c.decimals)
        self.deposits.append(DepositRecord(secrets.token_hex(8), api_key, c.coin, n.name, amount,
                                           to_checksum_address(to), tx, block, self.venue.now_ms()))  # fmt: skip

    async def _confirm(self, n: NetworkSpec, rpc: RpcClient, head: int) -> None:
        faults = self.venue.faults
        for d in list(self.deposits):
            if d.network != n.name or d.status == 1:
                continue
            d.confirmations = head - d.block + 1
            if d.status == 0 and d.confirmations >= n.confirmations:
                if await rpc.request("eth_getTransactionReceipt", [d.tx_hash]) is None:
                    self.deposits.remove(d)  # its block is gone (the chain went back): it never happened
                    continue
                d.confirmed_at = d.confirmed_at or time.monotonic()
                extra = faults.seconds("delayed_credit", "delay") if faults.on("delayed_credit") else 0.0
                if time.monotonic() - d.confirmed_at < extra:
                    continue
                have = self.venue.engine.account(d.api_key).line(d.coin).free
                self.venue.engine.set_balances(d.api_key, {d.coin: have + d.amount})
                d.status, d.complete_ms = 6, self.venue.now_ms()
            elif d.status == 6 and d.confirmations >= 2 * n.confirmations:
                d.status = 1


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in d.items()}
