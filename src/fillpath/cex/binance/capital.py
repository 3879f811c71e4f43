"""An exchange account's wallet: deposit addresses, deposit history, withdrawals — Binance's capital endpoints.

Through ccxt's raw methods (``sapi_get_capital_deposit_address``, ``sapi_get_capital_deposit_hisrec``,
``sapi_post_capital_withdraw_apply``, ``sapi_get_capital_withdraw_history``: the endpoints its unified
``fetch_deposit_address``, ``fetch_deposits``, ``withdraw`` and ``fetch_withdrawals`` call), so amounts go out and
come back as the venue's decimal strings, never floats. Requests spend weight on the connector's limiter.

Errors take the connector's tiers: a withdrawal request that may have reached the venue (timeout, dropped
connection, 5xx, 429) is ``Ambiguous`` — ask for it by its client id (``withdrawOrderId``), never send it again; a
refusal with a reason is ``Rejected``; a read that failed is ``Retryable`` and is repeated.

Statuses, as the venue reports them, onto :class:`TransferStatus`:
- deposits: 0 pending, 6 credited (cannot be withdrawn yet: it can trade), 1 success, 7 wrong deposit, 8 waiting
  for the user's confirmation, 2 rejected;
- withdrawals: 0 email sent, 2 awaiting approval, 4 processing, 6 completed (sent: ``txId`` is the
  transaction), 1 cancelled, 3 rejected, 5 failure (the last three give the amount back to the account).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt

from fillpath.cex.connector import CcxtConnector
from fillpath.cex.ratelimit import Cost, Priority
from fillpath.model.amounts import parse_decimal
from fillpath.model.commands import RequestWithdrawal
from fillpath.model.errors import Ambiguous, InvalidInput, Rejected, Retryable
from fillpath.model.reports import TransferStatus, TransferStatusReport

DEPOSIT_STATUS = {
    "0": TransferStatus.PENDING,
    "8": TransferStatus.PENDING,
    "6": TransferStatus.CREDITED,
    "1": TransferStatus.CREDITED,
    "7": TransferStatus.FAILED,
    "2": TransferStatus.FAILED,
}
WITHDRAW_STATUS = {
    "0": TransferStatus.PENDING,
    "2": TransferStatus.PENDING,
    "4": TransferStatus.PENDING,
    "6": TransferStatus.CREDITED,
    "1": TransferStatus.FAILED,
    "3": TransferStatus.FAILED,
    "5": TransferStatus.FAILED,
}
# Binance's published weights (IP, per minute); withdrawals also count against the account's UID limit
COSTS = {
    "deposit_address": Cost(10, 0, Priority.ACCOUNT),
    "deposit_history": Cost(1, 0, Priority.ACCOUNT),
    "withdraw": Cost(1, 0, Priority.EXECUTION),
    "withdraw_history": Cost(10, 0, Priority.ACCOUNT),
}
READ_ATTEMPTS = 4
_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')


def _dec(raw: Mapping[str, Any], key: str, default: str | None = None) -> Decimal:
    value = raw.get(key, default)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(key, f"{value!r} is not a decimal string from the venue")
    return parse_decimal(value, field=key)


@dataclass
class BinanceWallet:
    """Deposits and withdrawals of one exchange account (``conn``: its connector, whose ccxt client signs)."""

    conn: CcxtConnector

    @property
    def location(self) -> str:
        return self.conn.location

    async def _call(self, name: str, method: str, params: Mapping[str, Any], *, submit: bool = False) -> Any:
        attempt = 1
        while True:
            try:
                return await self._once(name, method, params, submit=submit)
            except Retryable as exc:
                if submit or attempt >= READ_ATTEMPTS:
                    raise
                attempt += 1
                await asyncio.sleep(min(exc.retry_after or 0.2, 5.0))

    async def _once(self, name: str, method: str, params: Mapping[str, Any], *, submit: bool) -> Any:
        await self.conn.limiter.acquire(COSTS[name])
        try:
            return await getattr(self.conn.exchange, method)(dict(params))
        except (ccxt.DDoSProtection, ccxt.RateLimitExceeded, ccxt.NetworkError) as exc:
            if submit:
                raise Ambiguous(f"{self.location}: {type(exc).__name__}: {exc}") from exc
            raise Retryable(f"{self.location}: {type(exc).__name__}: {exc}") from exc
        except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
            raise Rejected(str(exc), reason="auth", venue=self.location) from exc
        except (ccxt.InsufficientFunds, ccxt.BadRequest, ccxt.InvalidAddress, ccxt.OperationRejected) as exc:
            code = _CODE.search(str(exc))
            raise Rejected(str(exc), reason=code.group(1) if code else type(exc).__name__, venue=self.location) from exc
        except ccxt.ExchangeError as exc:  # the venue answered with an error: it said no
            code = _CODE.search(str(exc))
            raise Rejected(str(exc), reason=code.group(1) if code else type(exc).__name__, venue=self.location) from exc
        except ccxt.BaseError as exc:
            if submit:
                raise Ambiguous(f"{self.location}: {type(exc).__name__}: {exc}") from exc
            raise Retryable(str(exc)) from exc

    async def deposit_address(self, coin: str, network: str) -> str:
        raw = await self._call(
            "deposit_address", "sapi_get_capital_deposit_address", {"coin": coin, "network": network}
        )
        address = raw.get("address") if isinstance(raw, Mapping) else None
        if not isinstance(address, str) or not address:
            raise Rejected(f"{self.location} gave no deposit address for {coin} on {network}", reason="address")
        return address

    async def deposits(self, coin: str, *, tx_id: str | None = None) -> list[TransferStatusReport]:
        params: dict[str, Any] = {"coin": coin}
        if tx_id is not None:
            params["txId"] = tx_id
        raw = await self._call("deposit_history", "sapi_get_capital_deposit_hisrec", params)
        return [self._deposit(r) for r in raw]

    def _deposit(self, r: Mapping[str, Any]) -> TransferStatusReport:
        status = str(r.get("status"))
        return TransferStatusReport(
            self.location, str(r.get("id") or r.get("txId")), DEPOSIT_STATUS.get(status, TransferStatus.PENDING),
            status, str(r["coin"]), _dec(r, "amount"), None, None, r.get("txId"), r.get("address"), r.get("network"),
            int(r["insertTime"]) * 1_000_000 if str(r.get("insertTime", "")).isdigit() else None,
        )  # fmt: skip

    async def withdraw(self, cmd: RequestWithdrawal) -> str:
        """The venue's id for the withdrawal. ``Rejected``: it said no (nothing moved); ``Ambiguous``: ask."""
        params = {"coin": cmd.coin, "network": cmd.network, "address": cmd.address, "amount": str(cmd.amount),
                  "withdrawOrderId": cmd.client_id}  # fmt: skip
        raw = await self._call("withdraw", "sapi_post_capital_withdraw_apply", params, submit=True)
        ref = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(ref, str) or not ref:
            raise Ambiguous(f"{self.location} accepted a withdrawal without an id: {raw!r}")
        return ref

    async def withdrawals(self, coin: str, *, client_id: str | None = None) -> list[TransferStatusReport]:
        params: dict[str, Any] = {"coin": coin}
        if client_id is not None:
            params["withdrawOrderId"] = client_id
        raw = await self._call("withdraw_history", "sapi_get_capital_withdraw_history", params)
        return [self._withdrawal(r) for r in raw]

    def _withdrawal(self, r: Mapping[str, Any]) -> TransferStatusReport:
        status = str(r.get("status"))
        return TransferStatusReport(
            self.location, str(r["id"]), WITHDRAW_STATUS.get(status, TransferStatus.PENDING), status, str(r["coin"]),
            _dec(r, "amount"), _dec(r, "transactionFee", "0"), r.get("withdrawOrderId") or None, r.get("txId") or None,
            r.get("address"), r.get("network"), _apply_ns(r.get("applyTime")),
        )  # fmt: skip


def _apply_ns(value: object) -> int | None:
    """``applyTime`` ("2026-01-01 00:00:00", UTC, whole seconds) in ns; None when absent or not in that form."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(stamp.timestamp()) * 1_000_000_000


Wallet = BinanceWallet
"""What ``cex/wallet.py: wallet_for`` looks for in a dialect's package."""
