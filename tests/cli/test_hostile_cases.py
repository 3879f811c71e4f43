"""The cases of issue #20 that need more than one line of the failure table: what a refused or interrupted run
leaves, and the few successes that used to crash."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from fillpath.model.assets import AssetId
from fillpath.model.errors import DamagedState
from fillpath.model.events import ExecutionStarted, IntentCreated, IntentOutcome, IntentResolved
from fillpath.state.store import Store
from tests.cli.failures import World, invoke, make_template, make_world


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    template = make_template(tmp_path / "template")
    w = make_world(tmp_path, tmp_path / "data", template)
    monkeypatch.setenv("FILLPATH_DATA_DIR", str(w.data))
    monkeypatch.chdir(tmp_path)
    return w


def leg(venue: str, sell: str, buy: str, amount_in: int, amount_out: int) -> dict[str, str]:
    return {"venue": venue, "asset_in": sell, "asset_out": buy, "amount_in": str(amount_in),
            "amount_out": str(amount_out), "min_out": str(amount_out)}  # fmt: skip


def test_report_shows_every_leg_of_an_interrupted_run_and_how_to_finish_it(world: World) -> None:
    """Issue #20 item 2: ``report`` once showed ``interrupted`` with an empty legs table and no word of recover."""
    plan = {"legs": [leg("labex:ETH/BTC", "ETH@labex", "BTC@labex", 2 * 10**18, 6 * 10**16),
                     leg("labex:BTC/USDT", "BTC@labex", "USDT@labex", 6 * 10**16, 5400 * 10**6),
                     leg("lab1:uniswap_v2:0xab", "WETH@lab1", "USDC@lab1", 10**18, 3000 * 10**6)]}  # fmt: skip
    eth, btc = AssetId("ETH", "labex"), AssetId("BTC", "labex")
    with Store.open(f"sqlite:///{world.db}") as store:
        store.append(ExecutionStarted("fillpath", "x1", "ETH@labex,WETH@lab1", "USDT", 3 * 10**18, "execute",
                                      json.dumps(plan), "{}"))  # fmt: skip
        store.append(IntentCreated("labex", "x1-0-labex-0", "cex.order", "x1-0-labex-0", eth, Decimal(2), btc))
        store.append(IntentCreated("lab1", "x1-0-lab1", "evm.execute", "0xhash"))
        store.append(IntentResolved("lab1", "x1-0-lab1", IntentOutcome.BAD, "reverted"))
    result = invoke(["report", "x1", "--json"])
    assert result.code == 0, result.err
    legs = json.loads(result.out)["legs"]
    assert [(x["venue"], x["status"]) for x in legs] == [
        ("labex:ETH/BTC", "sent, outcome unknown"),
        ("labex:BTC/USDT", "not sent"),
        ("lab1:uniswap_v2:0xab", "resolved bad"),
    ]
    text = invoke(["report", "x1"])
    assert "labex:BTC/USDT" in text.out and "not sent" in text.out
    assert "fillpath recover" in text.out and "x1-0-labex-0" in text.out


def test_a_journal_refusal_names_the_latest_backup(world: World) -> None:
    backed = invoke(["db", "backup", "--json"])
    assert backed.code == 0, backed.err
    backup = json.loads(backed.out)["backup"]
    world.db.write_bytes(b"")
    result = invoke(["venues"])
    assert result.code == 2 and f"fillpath db restore {backup}" in result.err
    restored = invoke(["db", "restore", backup])
    assert restored.code == 0, restored.err
    assert invoke(["venues"]).code == 0


def test_halt_of_a_typo_journals_nothing_and_the_real_venue_can_be_halted(world: World) -> None:
    refused = invoke(["--config", str(world.config), "halt", "LABEX"])
    assert refused.code == 2 and "did you mean 'labex'" in refused.err
    before = world.fingerprint()
    assert invoke(["--config", str(world.config), "halt", "labex"]).code == 0
    assert world.fingerprint()[1] == before[1] + 1
    shown = json.loads(invoke(["--config", str(world.config), "venues", "--json"]).out)
    assert {r["venue"]: r["state"] for r in shown}["labex"] == "halted"
    # an old typo journaled before names were checked can still be cleared
    assert invoke(["--config", str(world.config), "resume", "nosuchvenue"]).code == 0


def test_balances_show_amounts_past_28_digits(world: World) -> None:
    """Issue #20 item 7: a 1e30 balance made ``balances`` crash with decimal.InvalidOperation."""
    cache = {"read_at_ns": 1, "reports": {"ETH@labex": {"amount": "1000000000000000000", "unit": "human"}},
             "decimals": {"ETH@labex": 18}, "prices": {"ETH@labex": "3000.123456789"}}  # fmt: skip
    (world.data / "venue-balances.json").write_text(json.dumps(cache))
    result = invoke(["balances", "--json"])
    assert result.code == 0, result.err
    (row,) = json.loads(result.out)["assets"][:1]
    assert row["value"] == "3000123456789000000000.00"


def test_a_damaged_lab_trader_is_named_not_sent_in_a_circle(tmp_path: Path) -> None:
    """Issue #20 item 8: ``swap`` said start the lab, ``lab up`` said the account exists."""
    from fillpath.lab.chains import trader

    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    trader.keystore_path(lab_dir).write_text("{garbage")
    for call in (trader.trader_address, trader.ensure_trader):
        with pytest.raises(DamagedState, match="keystore is damaged") as info:
            call(lab_dir)
        assert "fillpath lab up" in str(info.value)


def _request(remote: str, headers: dict[str, str] | None = None) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.return_value = (remote, 40000)
    return make_mocked_request("GET", "/api/v3/ping", headers=headers or {}, transport=transport)


async def test_a_remote_simulator_answers_only_with_the_token() -> None:
    from fillpath.lab.exchange.admin import _loopback
    from fillpath.lab.exchange.runner import TOKEN_HEADER, remote_token

    check = remote_token("t" * 32)

    async def ok(_request: web.Request) -> web.StreamResponse:
        return web.Response(text="pong")

    assert (await check(_request("127.0.0.1"), ok)).status == 200
    assert (await check(_request("10.1.2.3", {TOKEN_HEADER: "t" * 32}), ok)).status == 200
    with pytest.raises(web.HTTPUnauthorized):
        await check(_request("10.1.2.3"), ok)
    with pytest.raises(web.HTTPUnauthorized):
        await check(_request("10.1.2.3", {TOKEN_HEADER: "wrong"}), ok)
    with pytest.raises(web.HTTPForbidden):  # admin: loopback only, token or not
        _loopback(_request("10.1.2.3", {TOKEN_HEADER: "t" * 32}))


def test_reconcile_never_says_agrees_over_halted_rows() -> None:
    """Issue #20 item 9: rows marked halt, then "the ledger agrees with every venue"."""
    from fillpath.cli.reconcile_view import summary
    from fillpath.state.reconcile import Action, Finding
    from fillpath.state.reconciler import PassResult

    def one(action: Action) -> list[PassResult]:
        return [PassResult("lab1", (Finding("lab1", AssetId("USDC", "lab1"), 1, 9, action),), (), ())]

    line = summary(one(Action.HALT))
    assert "agrees" not in line and "halted" in line
    assert "agrees" in summary(one(Action.OK))


def test_no_file_in_the_data_directory_is_readable_by_others(world: World) -> None:
    assert invoke(["--config", str(world.config), "halt", "labex"]).code == 0
    assert invoke(["db", "backup"]).code == 0
    for root, dirs, files in os.walk(world.data):
        for name in dirs:
            assert os.stat(os.path.join(root, name)).st_mode & 0o077 == 0, name
        for name in files:
            if name != "HALT":
                assert os.stat(os.path.join(root, name)).st_mode & 0o077 == 0, name
