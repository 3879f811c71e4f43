from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from fillpath.config import RiskConfig
from fillpath.execution.guards import Guards, GuardsFailed, LegOrder
from fillpath.execution.killswitch import KillSwitch
from fillpath.model.assets import AssetId
from fillpath.state.store import Store

WETH, USDC, ETHX, USDTX = (
    AssetId("WETH", "lab1"),
    AssetId("USDC", "lab1"),
    AssetId("ETH", "labex"),
    AssetId("USDT", "labex"),
)
NOW = 1_000_000_000_000


def leg(**kw: object) -> LegOrder:
    base: dict[str, object] = {
        "venue": "lab1:uniswap_v3:0xpool", "location": "lab1", "asset_in": WETH, "amount_in": 10**18,
        "asset_out": USDC, "min_out": 2_900 * 10**6, "notional": Decimal(3000), "deadline_ns": NOW + 60 * 10**9,
    }  # fmt: skip
    base.update(kw)
    return LegOrder(**base)  # type: ignore[arg-type]


def guards(tmp_path: Path, *, halted: set[str] = frozenset(), held: dict[AssetId, object] | None = None,  # type: ignore[assignment]
           **risk: object) -> Guards:  # fmt: skip
    balances = {WETH: 10 * 10**18, ETHX: Decimal(5)} if held is None else held
    return Guards(
        KillSwitch(tmp_path / "HALT"),
        RiskConfig(**risk),  # type: ignore[arg-type]
        venue_halted=lambda v: v in halted,
        balance=lambda a: balances.get(a),  # type: ignore[return-value]
    )


def names(g: Guards, legs: list[LegOrder], bps: int = 50) -> list[str]:
    return [f.guard for f in g.check(legs, slippage_bps=bps, now_ns=NOW)]


def test_a_sound_plan_passes(tmp_path: Path) -> None:
    cex = leg(
        venue="labex:ETH/USDT", location="labex", asset_in=ETHX, amount_in=Decimal("2.5"), asset_out=USDTX,
        min_out=Decimal(7000),
    )  # fmt: skip
    assert names(guards(tmp_path), [leg(), cex]) == []


@pytest.mark.parametrize(
    ("change", "guard"),
    [
        ({"min_out": 0}, "min_out"),
        ({"deadline_ns": None}, "deadline"),
        ({"deadline_ns": NOW - 1}, "deadline"),
        ({"notional": Decimal(20_000_000)}, "order_notional"),
        ({"amount_in": 11 * 10**18}, "balance"),
        ({"asset_in": AssetId("WBTC", "lab1")}, "balance"),
    ],
)
def test_each_failing_guard_names_itself(tmp_path: Path, change: dict[str, object], guard: str) -> None:
    assert guard in names(guards(tmp_path), [leg(**change)])


def test_venue_halted_limits_and_slippage(tmp_path: Path) -> None:
    assert names(guards(tmp_path, halted={"lab1:uniswap_v3:0xpool"}), [leg()]) == ["venue_halted"]
    assert names(guards(tmp_path, halted={"lab1"}), [leg()]) == ["venue_halted"]  # the whole location
    assert names(guards(tmp_path), [leg()], bps=500) == ["slippage_cap"]
    g = guards(tmp_path, max_venue_notional=Decimal(5000))
    assert names(g, [leg(), leg()]) == ["venue_notional"]  # each leg fine, together too much at one venue
    two = [leg(amount_in=6 * 10**18), leg(amount_in=6 * 10**18)]
    assert names(guards(tmp_path), two) == ["balance"]  # balances add up across legs
    funded = [leg(), leg(venue="lab1:uniswap_v2:0xpair", asset_in=USDC, amount_in=3000 * 10**6, funded_by="x")]
    assert names(guards(tmp_path), funded) == []  # a leg fed by an earlier leg needs no holding


def test_kill_switch_stops_everything_and_enforce_raises(tmp_path: Path) -> None:
    g = guards(tmp_path)
    g.kill_switch.engage("market closed")
    with pytest.raises(GuardsFailed, match="guard kill_switch: market closed") as err:
        g.enforce([leg()], slippage_bps=50, now_ns=NOW)
    assert [f.guard for f in err.value.failures] == ["kill_switch"]
    assert g.kill_switch.release()
    g.enforce([leg()], slippage_bps=50, now_ns=NOW)


def test_halt_and_resume_commands(tmp_path: Path) -> None:
    config = tmp_path / "fillpath.toml"
    config.write_text('[exchanges.labex]\nccxt_id = "binance"\n')  # a venue is halted by a name the config defines
    env = {**os.environ, "FILLPATH_DATA_DIR": str(tmp_path), "FILLPATH_CONFIG": str(config)}

    def cli(*args: str) -> str:
        res = subprocess.run(
            [sys.executable, "-m", "fillpath", *args], capture_output=True, text=True, env=env, timeout=60, check=True
        )
        return res.stdout

    assert "engaged" in cli("halt", "--reason", "incident 42")
    assert "incident 42" in KillSwitch(tmp_path / "HALT").engaged()  # type: ignore[operator]
    assert "released" in cli("resume")
    assert KillSwitch(tmp_path / "HALT").engaged() is None
    cli("halt", "labex", "--reason", "api keys rotated")
    with Store.open(f"sqlite:///{tmp_path / 'fillpath.db'}") as store:
        flag = store.venue_flag("labex")
        assert flag.halted
        assert flag.reason == "api keys rotated"
    cli("resume", "labex")
    with Store.open(f"sqlite:///{tmp_path / 'fillpath.db'}") as store:
        assert not store.venue_flag("labex").halted


def test_a_journal_halt_of_every_venue_stops_the_guards(tmp_path: Path) -> None:
    """``VenueHalted("*")``: what ``fillpath halt`` journals beside the kill-switch file, for engines sharing the
    journal from other machines (their file system does not see the file)."""
    from fillpath.execution.guards import EVERYWHERE

    halted = {EVERYWHERE}
    guards = Guards(KillSwitch(tmp_path / "HALT"), RiskConfig(), lambda v: v in halted, lambda _a: 10**30)
    legs = [LegOrder("lab1:pool", "lab1", WETH, 10**18, USDC, 1, Decimal(3000), 10**12)]
    failures = guards.check(legs, slippage_bps=50, now_ns=1)
    assert [f.guard for f in failures] == ["kill_switch"] and "journal" in failures[0].detail
    halted.clear()
    assert guards.check(legs, slippage_bps=50, now_ns=1) == []
