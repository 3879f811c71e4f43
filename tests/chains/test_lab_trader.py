"""The lab's trading account: made once per data directory, gassed on every ``up``, funded to exact balances on
the chains and on labex, and never shown (key, passphrase) by any lab command. A lab of its own: these tests
restart it and change balances that other tests read."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from fillpath.app import trading_signers
from fillpath.lab import lab_config
from fillpath.lab.chains import artifacts
from fillpath.lab.chains.funding import parse_targets
from fillpath.lab.exchange.binance import sim_binance
from fillpath.lab.manager import TRADER_GAS, Lab
from fillpath.model.amounts import to_base_units
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from tests.cli.failures import invoke_with_env

DECIMALS = {"ETH": 18, "WETH": 18, "USDC": 6, "USDT": 6, "WBTC": 8, "DAI": 18, "BTC": 18}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("trader-lab"))
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


def _w3(lab: Lab, location: str) -> Web3:
    url = next(n.rpc_url for n in lab.status() if n.location == location)
    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))


def _trader(lab: Lab) -> str:
    address = lab.trader_address()
    assert address is not None
    return address


def _token(lab: Lab, location: str, symbol: str) -> Any:
    dep = lab.deployments()[location]
    return _w3(lab, location).eth.contract(
        address=Web3.to_checksum_address(dep.address(symbol)),
        abi=artifacts.abi("WETH9" if symbol == "WETH" else "LabToken"),
    )


def _chain_units(lab: Lab, asset: AssetId, holder: str | None = None) -> int:
    holder = holder or _trader(lab)
    if asset.symbol == "ETH":
        return int(_w3(lab, asset.location).eth.get_balance(Web3.to_checksum_address(holder)))
    return int(_token(lab, asset.location, asset.symbol).functions.balanceOf(holder).call())


def _labex_account(lab: Lab) -> dict[str, Decimal]:
    """free + locked per asset, from the simulator's signed REST account endpoint (GET /api/v3/account)."""
    creds, url = lab.exchange_credentials(), lab.exchange_status().url
    assert url is not None

    async def go() -> dict[str, Any]:
        ex = sim_binance(url, creds.api_key, creds.secret)
        try:
            return dict(await ex.private_get_account())
        finally:
            await ex.close()

    return {b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in asyncio.run(go())["balances"]}


def _blocks(lab: Lab) -> dict[str, int]:
    return {n.location: int(_w3(lab, n.location).eth.block_number) for n in lab.status()}


def _targets(raw: Mapping[str, str]) -> dict[AssetId, Decimal]:
    return {AssetId.parse(a): Decimal(v) for a, v in raw.items()}


def _assert_holds(lab: Lab, targets: Mapping[AssetId, Decimal]) -> None:
    labex = _labex_account(lab)
    for asset, amount in targets.items():
        if asset.location == "labex":
            assert labex.get(asset.symbol, Decimal(0)) == amount, asset
        else:
            assert _chain_units(lab, asset) == to_base_units(amount, DECIMALS[asset.symbol]), asset


def test_the_trader_is_made_once_and_survives_down_and_up(lab: Lab) -> None:
    address = _trader(lab)
    keystore, passphrase = lab.dir / "trader.json", lab.dir / "trader.passphrase"
    assert oct(passphrase.stat().st_mode & 0o777) == "0o600"
    assert oct(keystore.stat().st_mode & 0o777) == "0o600"
    assert json.loads(keystore.read_text())["crypto"]["kdfparams"]["n"] == 2**14  # light, for a lab key only
    assert lab.trader_signer().address == address
    files = keystore.read_bytes(), passphrase.read_bytes()

    lab.down()
    lab.up()  # the chains reload their cached state, which has never seen the trader
    assert lab.trader_address() == address
    assert (keystore.read_bytes(), passphrase.read_bytes()) == files  # the same key, not a new one
    assert all(n.trader == address for n in lab.status())
    for loc in ("lab1", "lab2"):
        w3 = _w3(lab, loc)
        assert w3.eth.get_balance(address) == TRADER_GAS
        assert w3.eth.get_balance(address, w3.eth.block_number - 2) == TRADER_GAS  # visible to confirmed reads


def test_up_gives_gas_only_where_the_trader_has_almost_none(lab: Lab) -> None:
    lab.fund(_targets({"ETH@lab1": "5", "ETH@lab2": "0.5"}))
    lab.up()  # already running: only the trader's gas is looked at
    assert _chain_units(lab, AssetId.parse("ETH@lab1")) == 5 * 10**18  # inventory, left alone
    assert _chain_units(lab, AssetId.parse("ETH@lab2")) == TRADER_GAS  # below the 1 ETH floor: topped up


def test_fund_sets_exact_balances_on_both_chains_and_labex(lab: Lab) -> None:
    targets = _targets({
        "WETH@lab1": "1500",
        "USDC@lab1": "2000000.000001",
        "WBTC@lab2": "0.00000001",
        "DAI@lab2": "12.345678901234567891",
        "ETH@lab2": "1000.000000000000000001",
        "ETH@labex": "500.5",
        "USDT@labex": "1234567.891",
        "BTC@labex": "0",
    })  # fmt: skip
    results = lab.fund(targets)
    assert [r.asset for r in results] == list(targets)
    assert {r.asset: r.after for r in results} == targets
    _assert_holds(lab, targets)
    w3 = _w3(lab, "lab2")  # reconciliation reads a few blocks deep: it sees the new balances too
    assert w3.eth.get_balance(_trader(lab), w3.eth.block_number - 2) == to_base_units(
        targets[AssetId.parse("ETH@lab2")], 18
    )

    # down again: an excess goes back to the development account, and the gas the trader paid to send it is
    # restored, so a native balance that was not named does not move by a wei
    trader_eth = _chain_units(lab, AssetId.parse("ETH@lab1"))
    untouched = _chain_units(lab, AssetId.parse("USDT@lab1"))
    dev = lab.deployments()["lab1"].dev
    dev_weth = _chain_units(lab, AssetId.parse("WETH@lab1"), holder=dev)
    smaller = _targets({"WETH@lab1": "0.1", "USDC@lab1": "0", "ETH@labex": "0"})
    before = {r.asset: r.before for r in lab.fund(smaller)}
    assert before == {k: targets[k] for k in smaller}
    _assert_holds(lab, smaller)
    assert _chain_units(lab, AssetId.parse("ETH@lab1")) == trader_eth
    assert _chain_units(lab, AssetId.parse("USDT@lab1")) == untouched
    assert _chain_units(lab, AssetId.parse("WETH@lab1"), holder=dev) - dev_weth == to_base_units("1499.9", 18)


def test_fund_is_idempotent(lab: Lab) -> None:
    targets = _targets({"WETH@lab2": "42", "USDT@lab1": "99.5", "ETH@lab1": "3", "USDC@labex": "77"})
    lab.fund(targets)
    blocks, labex = _blocks(lab), _labex_account(lab)
    again = lab.fund({str(a): str(v) for a, v in targets.items()})  # the same, as strings (what the demo passes)
    assert all(r.before == r.after == targets[r.asset] for r in again)
    assert _blocks(lab) == blocks  # nothing sent, nothing mined
    assert _labex_account(lab) == labex
    _assert_holds(lab, targets)


def test_labex_target_counts_what_open_orders_lock(lab: Lab) -> None:
    creds, url = lab.exchange_credentials(), lab.exchange_status().url
    assert url is not None

    async def order(action: str, **params: str) -> Any:
        ex = sim_binance(url, creds.api_key, creds.secret)
        try:
            call = ex.private_post_order if action == "new" else ex.private_delete_order
            return await call({"symbol": "ETHUSDT", **params})
        finally:
            await ex.close()

    lab.fund(_targets({"USDT@labex": "5000"}))
    placed = asyncio.run(order("new", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="1000"))
    try:
        lab.fund(_targets({"USDT@labex": "3000"}))  # 1,000 of it locked by the order, 2,000 free
        assert _labex_account(lab)["USDT"] == 3000
        with pytest.raises(InvalidInput) as err:
            lab.fund(_targets({"USDT@labex": "999.99"}))
        assert err.value.field == "USDT@labex" and "locked" in err.value.problem
    finally:
        asyncio.run(order("cancel", orderId=str(placed["orderId"])))
    assert _labex_account(lab)["USDT"] == 3000


@pytest.mark.parametrize(
    ("targets", "field"),
    [
        ({"USDC@lab1": "5", "FOO@lab2": "1"}, "FOO@lab2"),
        ({"USDC@lab1": "5", "USDC@lab2": "1.0000001"}, "USDC@lab2"),
        ({"USDC@lab1": "5", "WETH@lab9": "1"}, "WETH@lab9"),
        ({"USDC@lab1": "5", "DAI@labex": "1"}, "DAI@labex"),
        ({"USDC@lab1": "5", "ETH@labex": "-1"}, "ETH@labex"),
    ],
)
def test_a_bad_target_is_named_and_nothing_changes(lab: Lab, targets: dict[str, str], field: str) -> None:
    lab.fund(_targets({"USDC@lab1": "1"}))
    blocks, labex = _blocks(lab), _labex_account(lab)
    with pytest.raises(InvalidInput) as err:
        lab.fund(_targets(targets))
    assert err.value.field == field
    assert _chain_units(lab, AssetId.parse("USDC@lab1")) == 10**6
    assert _blocks(lab) == blocks and _labex_account(lab) == labex


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["WETH@lab1"], "WETH@lab1: is not ASSET=AMOUNT"),
        (["WETH@lab1=abc"], "WETH@lab1: 'abc' is not a number"),
        (["weth=1"], "weth=1: 'weth' is not SYMBOL@LOCATION"),
        (["ETH@lab1=1", "ETH@lab1=2"], "ETH@lab1: is given twice"),
        (["ETH@lab1=1.5e-19"], None),  # parses; the chain's decimals refuse it later
    ],
)
def test_parse_targets_names_the_argument(args: list[str], field: str | None) -> None:
    if field is None:
        assert parse_targets(args) == {AssetId.parse("ETH@lab1"): Decimal("1.5e-19")}
        return
    with pytest.raises(InvalidInput) as err:
        parse_targets(args)
    assert str(err.value).startswith(field)


def _cli(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    """``fillpath ARGS`` on ``lab``, in this process (a subprocess pays a second or more of imports each time)."""
    res = invoke_with_env({"FILLPATH_DATA_DIR": str(lab.dir.parent)}, *args)
    return subprocess.CompletedProcess(["fillpath", *args], res.code, res.out, res.err)


def test_cli_fund_and_status_show_the_trader_but_never_its_secrets(lab: Lab) -> None:
    bad = _cli(lab, "lab", "fund", "WETH@lab1=1", "USDC@lab1=0.0000001")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]  # one line, no traceback
    assert "USDC@lab1" in bad.stderr and "decimal places" in bad.stderr

    runs = [
        _cli(lab, "lab", "fund", "WETH@lab1=2.5", "ETH@labex=10", "--json"),
        _cli(lab, "lab", "fund", "WETH@lab1=2.5"),
        _cli(lab, "lab", "status"),
        _cli(lab, "lab", "status", "--json"),
        _cli(lab, "lab", "up", "--json"),
        _cli(lab, "--debug", "lab", "up"),
    ]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    funded = json.loads(runs[0].stdout)["funded"]
    assert funded[0] == {"asset": "WETH@lab1", "before": funded[0]["before"], "after": "2.5"}
    status = json.loads(runs[3].stdout)
    address = _trader(lab)
    assert status["trader"] == {"address": address, "keystore": str(lab.dir / "trader.json")}
    assert status["locations"]["lab1"]["trader_account"] == address
    assert address in runs[2].stdout

    passphrase = (lab.dir / "trader.passphrase").read_text()
    key = Account.decrypt(json.loads((lab.dir / "trader.json").read_text()), passphrase).hex()
    signer = lab.trader_signer()
    for text in [r.stdout + r.stderr for r in runs] + [repr(signer), str(signer), repr(lab.status())]:
        lowered = text.lower()
        assert key.lower().removeprefix("0x") not in lowered
        assert passphrase not in text


def test_trading_signers_on_the_lab_sign_for_the_trader(lab: Lab) -> None:
    signers = trading_signers(lab_config(lab.dir.parent))
    assert set(signers) == {"lab1", "lab2"}
    for loc, signer in signers.items():
        assert signer.address == _trader(lab)
        w3 = _w3(lab, loc)
        tx = {
            "to": "0x000000000000000000000000000000000000dEaD", "value": 1, "gas": 21_000, "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(signer.address), "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 1,
        }  # fmt: skip
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
        )
        assert receipt["status"] == 1 and receipt["from"] == signer.address  # it has gas, and the key is its own
