"""An aggregator's quote API in the shape of the 0x Swap API v2 (AllowanceHolder flow), over aiohttp.

Two endpoints: ``GET {url}/swap/allowance-holder/price`` (indicative: what the collector samples into the
snapshot's ``aggregator`` venue) and ``GET {url}/swap/allowance-holder/quote`` (firm: a transaction to send).
Parameters: ``chainId``, ``sellToken``, ``buyToken``, ``sellAmount``, ``taker``, ``slippageBps`` and
``excludedSources``; headers ``0x-api-key`` (when configured) and ``0x-version: v2``. A quote answers
``buyAmount``, ``minBuyAmount``, ``transaction {to, data, value, gas, gasPrice}``, ``allowanceTarget`` (and
``issues.allowance.spender``), ``route.fills[].source``, ``blockNumber``, ``liquidityAvailable``, ``zid``.

Everything the API says is a claim: this module only parses it strictly (integers as decimal strings, addresses
as 20 bytes, the echoed tokens and amount equal to what was asked). Whether the calldata may run, and what it
must deliver, is the execution's business (``execution/aggregator_leg.py``): the transaction is built by
someone else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from fillpath.model.errors import Rejected, Retryable

PRICE_PATH = "/swap/allowance-holder/price"
QUOTE_PATH = "/swap/allowance-holder/quote"
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_UINT = re.compile(r"[0-9]{1,78}")


class AggregatorError(Rejected):
    """The API refused (4xx) or answered something that is not a quote: do not use it."""


@dataclass(frozen=True, slots=True)
class Price:
    """An indicative price: ``buy_amount`` for ``sell_amount`` now (no transaction)."""

    sell_token: str
    buy_token: str
    sell_amount: int
    buy_amount: int
    gas: int | None
    block_number: int | None


@dataclass(frozen=True, slots=True)
class Quote:
    """A firm quote: send ``data`` to ``to`` with ``value`` after approving ``allowance_target`` exactly
    ``sell_amount``; the API says ``buy_amount`` arrives (at least ``min_buy_amount`` by its own check)."""

    sell_token: str
    buy_token: str
    sell_amount: int
    buy_amount: int
    min_buy_amount: int
    to: str
    data: bytes
    value: int
    gas: int | None
    allowance_target: str | None
    block_number: int | None
    sources: tuple[str, ...]
    zid: str | None


def _uint(body: Mapping[str, Any], key: str, where: str) -> int:
    value = body.get(key)
    if not isinstance(value, str) or not _UINT.fullmatch(value) or int(value) >= 2**256:
        raise AggregatorError(f"{where}: {key} = {value!r} is not a uint256 decimal string", reason="malformed")
    return int(value)


def _opt_uint(body: Mapping[str, Any], key: str, where: str) -> int | None:
    return None if body.get(key) is None else _uint(body, key, where)


def _address(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise AggregatorError(f"{where}: {key} = {value!r} is not an address", reason="malformed")
    return value.lower()


def _echo(body: Mapping[str, Any], sell: str, buy: str, amount: int, where: str) -> None:
    """The answer is for what was asked: the same tokens and exactly the same sell amount."""
    got = (_address(body.get("sellToken"), "sellToken", where), _address(body.get("buyToken"), "buyToken", where))
    if got != (sell.lower(), buy.lower()):
        raise AggregatorError(f"{where}: quoted {got[0]} → {got[1]}, asked {sell} → {buy}", reason="mismatch")
    if (sold := _uint(body, "sellAmount", where)) != amount:
        raise AggregatorError(f"{where}: quoted a sellAmount of {sold}, asked {amount}", reason="mismatch")


def parse_price(body: Any, sell: str, buy: str, amount: int, where: str) -> Price | None:
    """A ``/price`` answer; None when the API says no liquidity is available for this size."""
    if not isinstance(body, dict):
        raise AggregatorError(f"{where}: the answer is not a JSON object", reason="malformed")
    if body.get("liquidityAvailable") is False:
        return None
    _echo(body, sell, buy, amount, where)
    return Price(sell.lower(), buy.lower(), amount, _uint(body, "buyAmount", where), _opt_uint(body, "gas", where),
                 _opt_uint(body, "blockNumber", where))  # fmt: skip


def parse_quote(body: Any, sell: str, buy: str, amount: int, where: str) -> Quote | None:
    """A ``/quote`` answer; None when the API says no liquidity is available for this size."""
    if not isinstance(body, dict):
        raise AggregatorError(f"{where}: the answer is not a JSON object", reason="malformed")
    if body.get("liquidityAvailable") is False:
        return None
    _echo(body, sell, buy, amount, where)
    tx = body.get("transaction")
    if not isinstance(tx, dict):
        raise AggregatorError(f"{where}: no transaction in the quote", reason="malformed")
    data = tx.get("data")
    if not isinstance(data, str) or not re.fullmatch(r"0x(?:[0-9a-fA-F]{2})*", data) or len(data) < 10:
        raise AggregatorError(f"{where}: transaction.data is not calldata", reason="malformed")
    target = body.get("allowanceTarget")
    issues = body.get("issues")
    allowance_issue = issues.get("allowance") if isinstance(issues, dict) else None  # null: the allowance is set
    spender = allowance_issue.get("spender") if isinstance(allowance_issue, dict) else None
    if target is not None and spender is not None and str(target).lower() != str(spender).lower():
        raise AggregatorError(f"{where}: allowanceTarget {target} and issues.allowance.spender {spender} differ",
                              reason="mismatch")  # fmt: skip
    allowance = target if target is not None else spender
    route = body.get("route")
    fills = route.get("fills", []) if isinstance(route, dict) else []
    sources = tuple(str(f.get("source")) for f in fills if isinstance(f, dict) and f.get("source") is not None)
    return Quote(
        sell_token=sell.lower(), buy_token=buy.lower(), sell_amount=amount,
        buy_amount=_uint(body, "buyAmount", where), min_buy_amount=_uint(body, "minBuyAmount", where),
        to=_address(tx.get("to"), "transaction.to", where), data=bytes.fromhex(data[2:]),
        value=_uint(tx, "value", where), gas=_opt_uint(tx, "gas", where),
        allowance_target=None if allowance is None else _address(allowance, "allowanceTarget", where),
        block_number=_opt_uint(body, "blockNumber", where), sources=sources,
        zid=str(body["zid"]) if body.get("zid") is not None else None,
    )  # fmt: skip


@dataclass
class ZeroExClient:
    """One aggregator API (0x v2 shape) for one chain. Every request has ``timeout_s``; nothing is retried here
    (a quote is cheap to ask again, and a late one is stale)."""

    name: str
    url: str
    chain_id: int
    timeout_s: float = 3.0
    api_key: str | None = None
    excluded_sources: Sequence[str] = ()
    slippage_bps: int = 50
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _params(self, sell: str, buy: str, amount: int, taker: str | None) -> dict[str, str]:
        params = {"chainId": str(self.chain_id), "sellToken": sell, "buyToken": buy, "sellAmount": str(amount),
                  "slippageBps": str(self.slippage_bps)}  # fmt: skip
        if taker is not None:
            params["taker"] = taker
        if self.excluded_sources:
            params["excludedSources"] = ",".join(self.excluded_sources)
        return params

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"0x-version": "v2"} | ({"0x-api-key": self.api_key} if self.api_key else {})
        where = f"aggregator {self.name}"
        try:
            async with self._session.get(self.url.rstrip("/") + path, params=params, headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:  # fmt: skip
                text = await resp.text()
                status = resp.status
        except TimeoutError:
            raise Retryable(f"{where}: no answer within {self.timeout_s:g}s", retry_after=1.0) from None
        except aiohttp.ClientError as exc:
            raise Retryable(f"{where}: {type(exc).__name__}: {exc}", retry_after=1.0) from None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        if status >= 500 or status == 429:
            detail = body.get("message") if isinstance(body, dict) else text[:120]
            raise Retryable(f"{where}: HTTP {status}: {detail}", retry_after=1.0)
        if status != 200:
            detail = f"{body.get('name')}: {body.get('message')}" if isinstance(body, dict) else text[:120]
            raise AggregatorError(f"{where}: HTTP {status}: {detail}", reason="refused")
        return body

    async def price(self, sell: str, buy: str, amount: int, taker: str | None = None) -> Price | None:
        body = await self._get(PRICE_PATH, self._params(sell, buy, amount, taker))
        return parse_price(body, sell, buy, amount, f"aggregator {self.name} price")

    async def quote(self, sell: str, buy: str, amount: int, taker: str) -> Quote | None:
        body = await self._get(QUOTE_PATH, self._params(sell, buy, amount, taker))
        return parse_quote(body, sell, buy, amount, f"aggregator {self.name} quote")
