"""The lab aggregator: an HTTP service that answers in the shape of the 0x Swap API v2 (AllowanceHolder flow).

``GET /swap/allowance-holder/price`` and ``GET /swap/allowance-holder/quote`` take ``chainId``, ``sellToken``,
``buyToken``, ``sellAmount``, ``taker`` (required for a quote), ``slippageBps`` (default 100) and
``excludedSources`` (comma list of ``GET /sources`` names). A quote answers::

    {"liquidityAvailable": true, "blockNumber": "…", "buyToken": "0x…", "sellToken": "0x…", "sellAmount": "…",
     "buyAmount": "…", "minBuyAmount": "…", "allowanceTarget": "0x<holder>",
     "transaction": {"to": "0x<holder>", "data": "0x…", "gas": "…", "gasPrice": "…", "value": "0"},
     "issues": {"allowance": {"actual": "…", "spender": "0x<holder>"} | null,
                "balance": {"token", "actual", "expected"} | null, "simulationIncomplete": false,
                "invalidSourcesPassed": []},
     "route": {"fills": [{"from", "to", "source", "proportionBps"}], "tokens": [{"address", "symbol"}]},
     "fees": {"integratorFee": null, "zeroExFee": null, "gasFee": null}, "totalNetworkFee": "…", "zid": "0x…"}

(``price`` is the same without ``transaction``, with ``gas``/``gasPrice`` at the top.) No route:
``{"liquidityAvailable": false, "zid": …}``. Bad input: HTTP 400
``{"name": "INPUT_INVALID", "message": …, "data": {"details": [...]}}``. The transaction is
``LabAllowanceHolder.exec(aggregator, sellToken, sellAmount, aggregator, LabAggregator.swap(…))``
paying the taker.

Admin (loopback only): ``GET|POST /admin/faults`` (``{"profiles": {"skim": {"bps": "30"}}}`` replaces the set;
``faults.py``), ``GET /admin/quotes`` (every quote and price served, newest last), ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from eth_utils.address import to_checksum_address

from fillpath.chains.abi import fn
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.lab.aggregator.faults import Fault, check
from fillpath.lab.aggregator.routing import SKIM_RECIPIENT, LabMarket, Quoter, Route, ServiceConfig
from fillpath.lab.contracts import aggregator as agg
from fillpath.model.errors import FillpathError

DEFAULT_SLIPPAGE_BPS = 100
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class _BadInput(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class AggregatorService:
    """The service's state: the quoter, the active faults, what it served."""

    cfg: ServiceConfig
    rpc: RpcClient
    faults: dict[str, Fault] = field(default_factory=dict)
    served: list[dict[str, Any]] = field(default_factory=list)
    frozen: LabMarket | None = None
    quoter: Quoter = field(init=False)

    def __post_init__(self) -> None:
        self.quoter = Quoter(self.cfg, self.rpc)

    def set_faults(self, profiles: Mapping[str, Mapping[str, object]]) -> None:
        checked = {name: check(name, params) for name, params in profiles.items()}
        self.faults = checked
        if "stale" not in checked:
            self.frozen = None

    async def market(self) -> LabMarket:
        if "stale" in self.faults:
            if self.frozen is None:
                self.frozen = await self.quoter.market()
            return self.frozen
        return await self.quoter.market()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/swap/allowance-holder/price", self._price)
        app.router.add_get("/swap/allowance-holder/quote", self._quote)
        app.router.add_get("/sources", self._sources)
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/admin/faults", self._faults)
        app.router.add_post("/admin/faults", self._faults)
        app.router.add_get("/admin/quotes", self._served)

        async def close(_app: web.Application) -> None:
            await self.rpc.close()

        app.on_cleanup.append(close)
        return app

    # --- faults that act on the request itself ------------------------------------------------------------------

    async def _before(self, endpoint: str) -> web.Response | None:
        slow = self.faults.get("slow")
        if slow is not None and slow.applies(endpoint):
            await asyncio.sleep(slow.number("delay"))
        fail = self.faults.get("fail")
        if fail is not None and fail.applies(endpoint):
            body = {"name": "INTERNAL_SERVER_ERROR", "message": "lab fault: the aggregator is failing", "data": {}}
            return web.json_response(body, status=int(fail.number("status")))
        return None

    # --- the API ------------------------------------------------------------------------------------------------

    def _params(self, request: web.Request, *, taker_required: bool) -> dict[str, Any]:
        q = request.query
        if q.get("chainId") != str(self.cfg.chain_id):
            raise _BadInput("chainId", f"this service quotes chain {self.cfg.chain_id}")
        out: dict[str, Any] = {}
        for key in ("sellToken", "buyToken"):
            value = q.get(key, "")
            if not _ADDRESS.fullmatch(value) or value.lower() not in self.quoter.token_by_address:
                raise _BadInput(key, "not a token this service trades")
            out[key] = self.quoter.token_by_address[value.lower()][1]
        if out["sellToken"] == out["buyToken"]:
            raise _BadInput("buyToken", "the same as sellToken")
        amount = q.get("sellAmount", "")
        if not amount.isdigit() or not 0 < int(amount) < 2**256:
            raise _BadInput("sellAmount", "a positive integer in base units")
        out["sellAmount"] = int(amount)
        taker = q.get("taker")
        if taker is not None and not _ADDRESS.fullmatch(taker):
            raise _BadInput("taker", "not an address")
        if taker is None and taker_required:
            raise _BadInput("taker", "required for a quote")
        out["taker"] = taker
        slippage = q.get("slippageBps", str(DEFAULT_SLIPPAGE_BPS))
        if not slippage.isdigit() or int(slippage) > 10_000:
            raise _BadInput("slippageBps", "0 to 10000")
        out["slippageBps"] = int(slippage)
        excluded = [s for s in q.get("excludedSources", "").split(",") if s]
        out["invalid"] = [s for s in excluded if s not in self.cfg.sources()]
        out["excluded"] = [s for s in excluded if s in self.cfg.sources()]
        return out

    async def _answer(self, request: web.Request, endpoint: str) -> web.Response:
        failing = await self._before(endpoint)
        if failing is not None:
            self._record(endpoint, dict(request.query), {"status": failing.status})
            return failing
        try:
            p = self._params(request, taker_required=endpoint == "quote")
        except _BadInput as exc:
            invalid = {"name": "INPUT_INVALID", "message": "Validation Failed",
                       "data": {"details": [{"field": exc.field, "reason": exc.reason}]}}  # fmt: skip
            return web.json_response(invalid, status=400)
        zid = "0x" + secrets.token_hex(12)
        try:
            m = await self.market()
            found = self.quoter.route(m, p["sellToken"], p["buyToken"], p["sellAmount"], p["excluded"])
        except FillpathError as exc:
            return web.json_response({"name": "INTERNAL_SERVER_ERROR", "message": str(exc), "data": {}}, status=500)
        if found is None:
            body: dict[str, Any] = {"liquidityAvailable": False, "zid": zid}
        else:
            body = await self._body(endpoint, p, m, found, zid)
        self._record(endpoint, dict(request.query), body)
        return web.json_response(body)

    async def _body(self, endpoint: str, p: dict[str, Any], m: LabMarket, found: Route, zid: str) -> dict[str, Any]:
        sell, buy, amount, taker = p["sellToken"], p["buyToken"], p["sellAmount"], p["taker"]
        buy_amount = found.buy_amount
        skim = agg.NO_SKIM
        lie = self.faults.get("skim")
        paid = buy_amount
        if lie is not None:  # the calldata pays less than the quote says, and its own minimum is lowered to match
            skim = agg.Skim(SKIM_RECIPIENT, int(lie.number("bps")), int(lie.number("amount")))  # type: ignore[arg-type]
            paid = buy_amount - (buy_amount * skim.bps // agg.BPS + skim.amount)
        min_buy = paid * (agg.BPS - p["slippageBps"]) // agg.BPS
        symbols = {a.lower(): s for s, a, _ in self.cfg.tokens}
        fills = [{"from": f.token_in.lower(), "to": f.token_out.lower(), "source": f.source,
                  "proportionBps": str(f.bps)} for f in found.fills]  # fmt: skip
        tokens = [{"address": a.lower(), "symbol": symbols[a.lower()]}
                  for a in dict.fromkeys([sell, *(f.token_out for f in found.fills)])]  # fmt: skip
        no_tax = {"buyTaxBps": "0", "sellTaxBps": "0"}
        issues = {"allowance": None, "balance": None, "simulationIncomplete": False,
                  "invalidSourcesPassed": p["invalid"]}  # fmt: skip
        body: dict[str, Any] = {
            "blockNumber": str(m.block),
            "buyAmount": str(buy_amount),
            "buyToken": buy.lower(),
            "fees": {"integratorFee": None, "zeroExFee": None, "gasFee": None},
            "issues": issues,
            "liquidityAvailable": True,
            "minBuyAmount": str(min_buy),
            "route": {"fills": fills, "tokens": tokens},
            "sellAmount": str(amount),
            "sellToken": sell.lower(),
            "tokenMetadata": {"buyToken": no_tax, "sellToken": no_tax},
            "totalNetworkFee": str(found.gas * m.gas_price),
            "zid": zid,
            "allowanceTarget": self.cfg.holder.lower(),
        }
        if endpoint == "price":
            body |= {"gas": str(found.gas), "gasPrice": str(m.gas_price)}
            return body
        if taker is not None:
            body["issues"] |= await self._issues(sell, amount, taker)
        swap = agg.SwapCall(sell, amount, buy, min_buy, to_checksum_address(taker), found.hops, skim)
        tx = agg.holder_transaction(self.cfg.holder, self.cfg.aggregator, swap)
        body["transaction"] = {"to": tx.to.lower(), "data": "0x" + tx.data.hex(), "gas": str(found.gas),
                               "gasPrice": str(m.gas_price), "value": str(tx.value)}  # fmt: skip
        return body

    async def _issues(self, token: str, amount: int, taker: str) -> dict[str, Any]:
        """What the taker lacks now, as 0x reports it (fillpath's executor holds nothing until its own call)."""
        calls = [(fn("ERC20", "allowance"), (taker, self.cfg.holder)), (fn("ERC20", "balanceOf"), (taker,))]
        got = []
        for f, args in calls:
            raw = await self.rpc.request("eth_call", [{"to": token, "data": "0x" + f.encode(*args).hex()}, "latest"])
            got.append(hex_int(raw))
        allowance, balance = got
        out: dict[str, Any] = {}
        if allowance < amount:
            out["allowance"] = {"actual": str(allowance), "spender": self.cfg.holder.lower()}
        if balance < amount:
            out["balance"] = {"token": token.lower(), "actual": str(balance), "expected": str(amount)}
        return out

    def _record(self, endpoint: str, query: dict[str, str], body: Mapping[str, Any]) -> None:
        self.served.append({"endpoint": endpoint, "query": query, "answer": dict(body)})
        del self.served[:-500]

    async def _price(self, request: web.Request) -> web.Response:
        return await self._answer(request, "price")

    async def _quote(self, request: web.Request) -> web.Response:
        return await self._answer(request, "quote")

    async def _sources(self, _request: web.Request) -> web.Response:
        return web.json_response({"sources": self.cfg.sources(), "zid": "0x" + secrets.token_hex(12)})

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "chainId": self.cfg.chain_id, "faults": sorted(self.faults)})

    # --- admin --------------------------------------------------------------------------------------------------

    async def _faults(self, request: web.Request) -> web.Response:
        _loopback(request)
        if request.method == "POST":
            try:
                data = json.loads(await request.text() or "{}")
                profiles = data.get("profiles", {}) if isinstance(data, dict) else None
                if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
                    raise ValueError('expected {"profiles": {"name": {params}}}')
                self.set_faults(profiles)
            except (ValueError, FillpathError) as exc:
                return web.json_response({"name": "INPUT_INVALID", "message": str(exc)}, status=400)
        return web.json_response({"profiles": {n: dict(f.params) for n, f in self.faults.items()}})

    async def _served(self, request: web.Request) -> web.Response:
        _loopback(request)
        return web.json_response(self.served)


def _loopback(request: web.Request) -> None:
    try:
        if ipaddress.ip_address(request.remote or "").is_loopback:
            return
    except ValueError:
        pass
    raise web.HTTPForbidden(text="admin is loopback only")


class AggregatorServer:
    """``async with AggregatorServer(cfg) as s: s.url`` — the service on a loopback port, in this process."""

    def __init__(self, cfg: ServiceConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service = AggregatorService(cfg, RpcClient(cfg.location, [cfg.rpc_url]))
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        self._runner = web.AppRunner(self.service.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> AggregatorServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
