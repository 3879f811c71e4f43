"""``lab fund``: set the lab trader's balances to exact targets, on the lab chains and on the lab's exchanges.

- Native ETH: ``anvil_setBalance``.
- A LabToken: the development account (the token's minter) mints the shortfall to the trader; an excess goes back
  to the development account.
- WETH: the development account deposits the shortfall and transfers it; an excess goes back to it.
- labex, labokx: the simulator's admin API (the same for every dialect) sets free amounts; a target is free + locked.
- On a fork (``by_slot``): every token by a write into its ``balanceOf`` storage, found by probing and read back
  (``slots.py``): a fork of a real network has tokens nobody here can mint.

Sends *from* the trader use anvil's impersonation: no key is unlocked, but they use the trader's nonces and gas.
So the native balance is set last, to its target or back to what it was, and no target moves by a unit of gas.
Every target is checked (location, symbol, amount) before anything changes, and read back after. A chain that
changed then mines a few empty blocks, so readers at a confirmation depth see the new balances too:
``anvil_setBalance`` changes only the pending state, which earlier blocks never show.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fillpath.lab.chains import rpc, slots
from fillpath.lab.chains.artifacts import fn
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.model.amounts import from_base_units, parse_decimal, to_base_units
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput, LabError
from fillpath.model.validate import check_human

NATIVE = "ETH"
NATIVE_DECIMALS = 18
EXCHANGE_DECIMALS = 18  # an exchange asset without a lab token of its symbol, as the snapshot collector reads it
GAS_MONEY = 10**18  # what the trader needs to send a few transfers back (restored afterwards)
EXAMPLE = "for example WETH@lab1=1500 ETH@labex=500"


@dataclass(frozen=True, slots=True)
class FundResult:
    asset: AssetId
    before: Decimal
    after: Decimal

    def to_json(self) -> dict[str, str]:
        return {"asset": str(self.asset), "before": plain(self.before), "after": plain(self.after)}


def plain(amount: Decimal) -> str:
    """``1500.000000`` → ``1500``: exact (formatting never rounds), no exponent, no trailing zeros."""
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_targets(args: Sequence[str]) -> dict[AssetId, Decimal]:
    """``["WETH@lab1=1500", ...]`` → targets. Errors name the argument or the asset."""
    out: dict[AssetId, Decimal] = {}
    for arg in args:
        asset_text, sep, amount_text = arg.partition("=")
        if not sep:
            raise InvalidInput(arg, "is not ASSET=AMOUNT", EXAMPLE)
        asset = AssetId.parse(asset_text.strip(), field=arg)
        if asset in out:
            raise InvalidInput(str(asset), "is given twice", "give each asset once")
        out[asset] = check_human(parse_decimal(amount_text.strip(), field=str(asset)), str(asset))
    if not out:
        raise InvalidInput("TARGETS", "nothing to fund", EXAMPLE)
    return out


def chain_decimals(dep: LabDeployment) -> dict[str, int]:
    return {NATIVE: NATIVE_DECIMALS, **{t.symbol: t.decimals for t in dep.tokens}}


def chain_targets(dep: LabDeployment, targets: Mapping[AssetId, Decimal]) -> dict[str, int]:
    """Symbol → exact base units on one chain; a symbol the chain lacks or an inexact amount is an error."""
    decimals = chain_decimals(dep)
    out: dict[str, int] = {}
    for asset, amount in targets.items():
        if asset.symbol not in decimals:
            raise InvalidInput(
                str(asset), f"{asset.location} has no asset {asset.symbol}", f"it has {', '.join(sorted(decimals))}"
            )
        out[asset.symbol] = to_base_units(amount, decimals[asset.symbol], field=str(asset))
    return out


def exchange_targets(
    assets: Sequence[str], chain_decimals: Mapping[str, int], targets: Mapping[AssetId, Decimal]
) -> dict[str, Decimal]:
    """Symbol → exact amount on the exchange, in the unit the snapshot gives that symbol (its lab decimals)."""
    out = {}
    for asset, amount in targets.items():
        if asset.symbol not in assets:
            fix = f"it has {', '.join(assets)}"
            raise InvalidInput(str(asset), f"{asset.location} has no asset {asset.symbol}", fix)
        dec = chain_decimals.get(asset.symbol, EXCHANGE_DECIMALS)
        out[asset.symbol] = from_base_units(to_base_units(amount, dec, field=str(asset)), dec)
    return out


# --- chains --------------------------------------------------------------------------------------------------


def token_balance(url: str, token: str, holder: str) -> int:
    """``balanceOf``; a token without one (no code at that address) is an error naming it."""
    return slots.balance_of(url, token, holder)


def native_balance(url: str, holder: str) -> int:
    return int(rpc.call(url, "eth_getBalance", [holder, "latest"]), 16)


def _send(url: str, sender: str, to: str, data: bytes, what: str, value: int = 0) -> None:
    tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
    tx_hash = rpc.call(url, "eth_sendTransaction", [tx], timeout=30)
    deadline = time.monotonic() + 10
    while (receipt := rpc.call(url, "eth_getTransactionReceipt", [tx_hash])) is None:
        if time.monotonic() > deadline:
            raise LabError(f"{what}: no receipt for {tx_hash}")
        time.sleep(0.01)
    if receipt["status"] != "0x1":
        raise LabError(f"{what}: the transaction {tx_hash} reverted")


def settle(url: str, blocks: int) -> None:
    """Mine ``blocks`` empty blocks: what was just set is then visible ``blocks`` deep."""
    for _ in range(blocks):
        rpc.call(url, "evm_mine")


def head_time(url: str) -> int:
    return int(rpc.call(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def align_clocks(urls: Sequence[str], block_interval_s: int) -> dict[str, int]:
    """Mine empty blocks on every chain whose clock is behind the one furthest ahead, until it is level with it (to
    within a block). Returns the blocks mined per chain (only those that needed any).

    The lab's clocks move only when blocks are mined (``block_interval_s`` each), so chains that mined different
    numbers of blocks (the deployment, a ``lab fund`` of one chain) drift apart, and a bridge deposit's fill
    deadline, set on the origin's clock and checked on the destination's, is then already past when the destination
    is ahead by more than the deadline: every relay that way is refunded. Real chains share the wall clock."""
    times = {u: head_time(u) for u in urls}
    top = max(times.values(), default=0)
    mined = {}
    for url, t in times.items():
        blocks = (top - t) // block_interval_s
        if blocks > 0:
            rpc.call(url, "anvil_mine", [hex(blocks)])
            mined[url] = blocks
    return mined


class _ChainFunder:
    """One chain's token moves. The trader is impersonated only while it sends, and only if it must.

    ``by_slot`` (a fork): every token balance is written into the token's storage (``slots.py``), since a fork of
    a real network has tokens nobody here can mint; WETH's contract gets the ETH that backs what was added, so an
    unwrap still pays out."""

    def __init__(self, url: str, dep: LabDeployment, trader: str, *, by_slot: bool = False) -> None:
        self.url, self.dep, self.trader = url, dep, trader
        self.by_slot = by_slot
        self.impersonating = False
        self.changed = False

    def _from_trader(self, token: str, amount: int, symbol: str) -> None:
        if not self.impersonating:
            rpc.call(self.url, "anvil_impersonateAccount", [self.trader])
            self.impersonating = True
            if native_balance(self.url, self.trader) < GAS_MONEY:
                rpc.call(self.url, "anvil_setBalance", [self.trader, hex(GAS_MONEY)])
        data = fn("LabToken", "transfer").encode(self.dep.dev, amount)
        _send(self.url, self.trader, token, data, f"{self.dep.location}: return {amount} {symbol} to dev")

    def set_token(self, symbol: str, target: int) -> int:
        token = self.dep.address(symbol)
        have = token_balance(self.url, token, self.trader)
        where = f"{self.dep.location}: {symbol}"
        self.changed |= have != target
        if self.by_slot:
            if have != target:
                slots.set_token_balance(self.url, token, self.trader, target)
                if symbol == "WETH" and target > have:
                    backing = native_balance(self.url, token) + target - have
                    rpc.call(self.url, "anvil_setBalance", [token, hex(backing)])
            return have
        if have > target:
            self._from_trader(token, have - target, symbol)
        elif have < target and symbol == "WETH":
            need = target - have
            dev_eth = native_balance(self.url, self.dep.dev)
            if dev_eth < need + GAS_MONEY:  # the faucet never runs dry
                rpc.call(self.url, "anvil_setBalance", [self.dep.dev, hex(need + 1000 * GAS_MONEY)])
            _send(self.url, self.dep.dev, token, fn("WETH9", "deposit").encode(), f"{where} deposit", value=need)
            _send(self.url, self.dep.dev, token, fn("WETH9", "transfer").encode(self.trader, need), f"{where} send")
        elif have < target:
            mint = fn("LabToken", "mint").encode(self.trader, target - have)
            _send(self.url, self.dep.dev, token, mint, f"{where} mint")
        return have

    def close(self) -> None:
        if self.impersonating:
            rpc.call(self.url, "anvil_stopImpersonatingAccount", [self.trader])
            self.impersonating = False


def fund_chain(
    url: str, dep: LabDeployment, trader: str, targets: Mapping[str, int], *, settle_blocks: int, by_slot: bool = False
) -> dict[str, tuple[int, int]]:
    """Set the trader's balances on one chain; symbol → (before, after) in base units, read back from the chain.

    Nothing is sent and no block is mined when every balance is already on target. ``by_slot``: tokens by storage
    writes (a fork), not by mints and transfers.
    """
    native_before = native_balance(url, trader)
    before: dict[str, int] = {}
    funder = _ChainFunder(url, dep, trader, by_slot=by_slot)
    try:
        for symbol in sorted(s for s in targets if s != NATIVE):
            before[symbol] = funder.set_token(symbol, targets[symbol])
    finally:
        funder.close()
    native_target = targets.get(NATIVE, native_before)
    changed = funder.changed
    if native_balance(url, trader) != native_target:
        rpc.call(url, "anvil_setBalance", [trader, hex(native_target)])
        changed = True
    if changed:
        settle(url, settle_blocks)
    before[NATIVE] = native_before
    out = {}
    for symbol in targets:
        after = native_balance(url, trader) if symbol == NATIVE else token_balance(url, dep.address(symbol), trader)
        if after != targets[symbol]:
            raise LabError(f"{dep.location}: {symbol} is {after} after funding, not {targets[symbol]}")
        out[symbol] = (before[symbol], after)
    return out


# --- the exchange ------------------------------------------------------------------------------------------------


def _admin(url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{url}{path}", data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:
        raise LabError(f"labex {path}: HTTP {exc.code}: {exc.read().decode(errors='replace')[:200]}") from None
    except (OSError, ValueError) as exc:
        raise LabError(f"labex {path} did not answer: {exc}") from None


def exchange_balances(url: str, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Asset → (free, locked) of one account, from the simulator's admin API."""
    raw = _admin(url, "/admin/balances?" + urllib.parse.urlencode({"api_key": api_key}))
    return {a: (Decimal(v["free"]), Decimal(v["locked"])) for a, v in raw.items()}


def fund_exchange(
    url: str, api_key: str, location: str, targets: Mapping[str, Decimal]
) -> dict[str, tuple[Decimal, Decimal]]:
    """Set free = target - locked for each asset; asset → (before, after) totals, read back from the simulator."""
    have = exchange_balances(url, api_key)
    zero = (Decimal(0), Decimal(0))
    free: dict[str, str] = {}
    for symbol, target in targets.items():
        cur_free, locked = have.get(symbol, zero)
        if locked > target:
            raise InvalidInput(
                f"{symbol}@{location}", f"{locked} is locked in open orders", "cancel them, or fund at least that"
            )
        if cur_free != target - locked:
            free[symbol] = str(target - locked)
    if free:
        _admin(url, "/admin/balances", {"api_key": api_key, "balances": free, "record": True})
    now = exchange_balances(url, api_key)
    out = {}
    for symbol, target in targets.items():
        after = sum(now.get(symbol, zero), Decimal(0))
        if after != target:
            raise LabError(f"{location}: {symbol} is {after} after funding, not {target}")
        out[symbol] = (sum(have.get(symbol, zero), Decimal(0)), after)
    return out
