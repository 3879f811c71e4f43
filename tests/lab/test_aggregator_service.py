"""The lab aggregator on lab1 (anvil), in this process: 0x-v2-shaped answers whose transaction pays exactly the
quoted ``buyAmount`` on chain, and each fault doing what a real aggregator does wrong."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError

from fillpath.chains.executor import revert_data
from fillpath.lab.aggregator.faults import parse
from fillpath.lab.aggregator.routing import SKIM_RECIPIENT, ServiceConfig
from fillpath.lab.aggregator.service import AggregatorServer
from fillpath.lab.contracts import aggregator as agg
from fillpath.model.errors import InvalidInput
from tests.conftest import Chain

DIRECT = "Curve,Uniswap_V2,Uniswap_V3"


class Service:
    """An AggregatorServer on a thread-free loop of its own, driven from the synchronous test."""

    def __init__(self, chain: Chain) -> None:
        rpc_url = chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
        self.cfg = ServiceConfig.from_deployment(chain.deployment, rpc_url)
        self.loop = asyncio.new_event_loop()
        self.server = AggregatorServer(self.cfg)
        self.url = self.loop.run_until_complete(self.server.start())
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def get(self, path: str, **params: Any) -> tuple[int, Any]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def faults(self, profiles: dict[str, dict[str, str]]) -> None:
        req = urllib.request.Request(f"{self.url}/admin/faults", data=json.dumps({"profiles": profiles}).encode(),
                                     method="POST")  # fmt: skip
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.loads(r.read())["profiles"].keys() == profiles.keys()


@pytest.fixture
def service(lab1: Chain) -> Iterator[Service]:
    s = Service(lab1)
    try:
        yield s
    finally:
        s.close()


def _ask(chain: Chain, s: Service, endpoint: str, sell: str, buy: str, human: int, **extra: Any) -> tuple[int, Any]:
    d = chain.deployment
    amount = human * 10 ** d.token(sell).decimals
    return s.get(f"/swap/allowance-holder/{endpoint}", chainId=d.chain_id, sellToken=d.address(sell),
                 buyToken=d.address(buy), sellAmount=amount, **extra)  # fmt: skip


def _take(chain: Chain, quote: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The taker (the dev account) approves the allowance target exactly and sends the transaction: the receipt
    and what it received."""
    dev = chain.dev
    sell = chain.w3.eth.contract(address=Web3.to_checksum_address(quote["sellToken"]), abi=chain.contract("USDC").abi)
    buy = chain.w3.eth.contract(address=Web3.to_checksum_address(quote["buyToken"]), abi=chain.contract("USDC").abi)
    spender = Web3.to_checksum_address(quote["issues"]["allowance"]["spender"])
    assert spender == Web3.to_checksum_address(quote["allowanceTarget"])
    sell.functions.approve(spender, int(quote["sellAmount"])).transact({"from": dev})
    before = buy.functions.balanceOf(dev).call()
    tx = quote["transaction"]
    h = chain.w3.eth.send_transaction({"from": dev, "to": Web3.to_checksum_address(tx["to"]), "data": tx["data"],
                                       "value": int(tx["value"]), "gas": 3_000_000})  # fmt: skip
    receipt = chain.w3.eth.wait_for_transaction_receipt(h)
    assert sell.functions.allowance(dev, spender).call() == 0  # spent exactly
    return dict(receipt), buy.functions.balanceOf(dev).call() - before


def test_a_quote_is_0x_shaped_and_its_transaction_pays_exactly_the_quote(lab1: Chain, service: Service) -> None:
    d = lab1.deployment
    status, price = _ask(lab1, service, "price", "WETH", "DAI", 100)
    assert status == 200 and price["liquidityAvailable"] is True and "transaction" not in price
    status, q = _ask(lab1, service, "quote", "WETH", "DAI", 100, taker=lab1.dev, slippageBps=30)
    assert status == 200
    assert q["buyAmount"] == price["buyAmount"]  # the same route, indicative or firm
    assert int(q["minBuyAmount"]) == int(q["buyAmount"]) * 9970 // 10_000
    holder = d.address("LabAllowanceHolder").lower()
    assert q["transaction"]["to"] == q["allowanceTarget"] == holder  # the AllowanceHolder flow
    assert q["issues"]["balance"] is None and q["issues"]["allowance"]["actual"] == "0"
    sources = [f["source"] for f in q["route"]["fills"]]
    assert set(sources) <= {"Uniswap_V2", "Uniswap_V3", "Curve", "LabSwap"} and sources
    assert q["route"]["tokens"][0]["symbol"] == "WETH"
    receipt, got = _take(lab1, q)
    assert receipt["status"] == 1
    assert got == int(q["buyAmount"])  # to the unit
    swapped = [e for e in (agg.decode_swapped(log) for log in receipt["logs"]) if e]
    assert [(s.buy_amount, s.skimmed) for s in swapped] == [(got, 0)]


def test_excluded_sources_route_around_the_pools_fillpath_trades_itself(lab1: Chain, service: Service) -> None:
    status, q = _ask(lab1, service, "quote", "WETH", "USDT", 10, taker=lab1.dev, excludedSources=DIRECT)
    assert status == 200
    assert {f["source"] for f in q["route"]["fills"]} == {"LabSwap"}
    assert _take(lab1, q)[1] == int(q["buyAmount"])
    _, two = _ask(lab1, service, "quote", "USDC", "DAI", 1000, taker=lab1.dev, excludedSources=DIRECT)
    assert [(f["source"], f["to"]) for f in two["route"]["fills"]] == [
        ("LabSwap", lab1.deployment.address("WETH").lower()),
        ("LabSwap", lab1.deployment.address("DAI").lower()),
    ]  # no stable pair outside the excluded sources: through WETH
    status, none = _ask(lab1, service, "quote", "WBTC", "USDC", 1, taker=lab1.dev, excludedSources=DIRECT)
    assert status == 200 and none == {"liquidityAvailable": False, "zid": none["zid"]}
    _, with_unknown = _ask(lab1, service, "price", "WETH", "USDC", 1, excludedSources="Nowhere")
    assert with_unknown["issues"]["invalidSourcesPassed"] == ["Nowhere"]


def test_bad_requests_are_400_with_the_field(lab1: Chain, service: Service) -> None:
    status, body = _ask(lab1, service, "quote", "WETH", "USDC", 1)  # no taker
    assert status == 400 and body["data"]["details"][0]["field"] == "taker"
    d = lab1.deployment
    status, body = service.get("/swap/allowance-holder/price", chainId=1, sellToken=d.address("WETH"),
                               buyToken=d.address("USDC"), sellAmount=1)  # fmt: skip
    assert status == 400 and body["data"]["details"][0]["field"] == "chainId"
    status, body = service.get("/sources")
    assert status == 200 and body["sources"] == ["Curve", "LabSwap", "Uniswap_V2", "Uniswap_V3"]


def test_skim_pays_less_than_the_quote_says_and_its_own_minimum_agrees(lab1: Chain, service: Service) -> None:
    service.faults({"skim": {"bps": "30"}})
    _, q = _ask(lab1, service, "quote", "WETH", "USDC", 5, taker=lab1.dev, excludedSources=DIRECT, slippageBps=0)
    quoted = int(q["buyAmount"])
    receipt, got = _take(lab1, q)  # the settlement is satisfied: its minBuyAmount was lowered to match
    assert receipt["status"] == 1
    assert got == quoted - quoted * 30 // 10_000 == int(q["minBuyAmount"])
    assert lab1.contract("USDC").functions.balanceOf(Web3.to_checksum_address(SKIM_RECIPIENT)).call() == quoted - got


def test_a_stale_quote_reverts_in_the_settlement_once_the_market_moved(lab1: Chain, service: Service) -> None:
    service.faults({"stale": {}})
    _, before = _ask(lab1, service, "quote", "WETH", "USDC", 5, taker=lab1.dev, excludedSources=DIRECT)
    pair = lab1.deployment.aggregator_pools[0]  # LabSwap WETH/USDC: someone sells into it
    weth = lab1.contract("WETH")
    weth.functions.transfer(pair.address, 200 * 10**18).transact({"from": lab1.dev})
    pair_c = lab1.contract_at("UniswapV2Pair", pair.address)
    t0 = pair_c.functions.token0().call()
    reserves = pair_c.functions.getReserves().call()
    r_weth, r_usdc = (reserves[0], reserves[1]) if t0 == weth.address else (reserves[1], reserves[0])
    out = 200 * 10**18 * 997 * r_usdc // (r_weth * 1000 + 200 * 10**18 * 997)
    amounts = (0, out) if t0 == weth.address else (out, 0)
    pair_c.functions.swap(*amounts, lab1.dev, b"").transact({"from": lab1.dev})
    _, stale = _ask(lab1, service, "quote", "WETH", "USDC", 5, taker=lab1.dev, excludedSources=DIRECT)
    assert stale["buyAmount"] == before["buyAmount"] and stale["blockNumber"] == before["blockNumber"]
    dev = lab1.dev
    weth.functions.approve(lab1.deployment.address("LabAllowanceHolder"), 5 * 10**18).transact({"from": dev})
    tx = stale["transaction"]
    call = {"from": dev, "to": Web3.to_checksum_address(tx["to"]), "data": tx["data"]}
    with pytest.raises(ContractLogicError) as info:
        lab1.w3.eth.call(call)  # type: ignore[arg-type]
    data = revert_data(info.value)
    assert data is not None
    err = agg.decode_revert(data)
    assert err is not None and err.name == "TooMuchSlippage"  # the settlement's own minimum, from the old price
    service.faults({})
    _, fresh = _ask(lab1, service, "quote", "WETH", "USDC", 5, taker=lab1.dev, excludedSources=DIRECT)
    assert int(fresh["buyAmount"]) < int(stale["buyAmount"])  # the real price now


def test_slow_and_failing_endpoints(lab1: Chain, service: Service) -> None:
    service.faults({"slow": {"delay": "0.5", "only": "quote"}})
    t = time.perf_counter()
    status, _ = _ask(lab1, service, "price", "WETH", "USDC", 1)
    assert status == 200 and time.perf_counter() - t < 0.5
    t = time.perf_counter()
    status, _ = _ask(lab1, service, "quote", "WETH", "USDC", 1, taker=lab1.dev)
    assert status == 200 and time.perf_counter() - t >= 0.5
    service.faults({"fail": {"status": "503"}})
    status, body = _ask(lab1, service, "price", "WETH", "USDC", 1)
    assert status == 503 and body["name"] == "INTERNAL_SERVER_ERROR"


def test_fault_profiles_are_checked() -> None:
    assert parse("skim:bps=25").params["bps"] == "25"
    assert parse("slow:delay=3,only=quote").applies("quote") and not parse("slow:only=quote").applies("price")
    for bad in ("sticky", "skim:bps=20000", "fail:status=404", "slow:only=both", "skim:x=1"):
        with pytest.raises(InvalidInput):
            parse(bad)
