"""Policy files: every bad field named once with its fix, exit code 2 for the CLI, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from fillpath.config import Config, load_config_file
from fillpath.rebalance.policy import PolicyErrors, load_policy

CONFIG = """
[locations.lab1]
chain_id = 31337
rpc = "http://127.0.0.1:1"
[locations.lab2]
chain_id = 31338
rpc = "http://127.0.0.1:2"
[exchanges.labex]
ccxt_id = "binance"
[[tokens]]
location = "lab1"
symbol = "USDC"
address = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
decimals = 6
[[tokens]]
location = "lab2"
symbol = "USDC"
address = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
decimals = 6
"""

GOOD = """
band = "2%"
min_trade = "100"
max_cost_bps = 30
daily_notional = "1000000"
reserve = { "ETH@lab1" = "0.5" }
[[targets]]
asset = "USDC@lab1"
share = "50%"
[[targets]]
asset = "USDC@lab2"
share = "50"
band = "5%"
[[targets]]
asset = "ETH@labex"
amount = "10"
[schedule]
every_s = 10
missed = "run_once"
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    path = tmp_path / "fillpath.toml"
    path.write_text(CONFIG)
    return load_config_file(path, data_dir=tmp_path / "data")


def write(tmp_path: Path, text: str, name: str = "spread.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_a_good_policy_is_read_into_exact_values(cfg: Config, tmp_path: Path) -> None:
    pol = load_policy(write(tmp_path, GOOD), cfg)
    assert pol.name == "spread" and len(pol.targets) == 3
    lab1, lab2, eth = pol.targets
    assert (lab1.share, lab1.band, lab2.share, lab2.band) == (Decimal(50), Decimal(2), Decimal(50), Decimal(5))
    assert eth.amount == Decimal(10) and eth.share is None
    assert pol.min_trade == Decimal(100) and pol.max_cost_bps == Decimal(30) and pol.daily_notional == Decimal(10**6)
    assert pol.reserve == {"ETH@lab1": Decimal("0.5")}
    assert pol.schedule is not None and pol.schedule.every_s == 10 and pol.schedule.missed == "run_once"


BAD = """
band = "-1%"
[[targets]]
asset = "USDC@lab9"
share = "40%"
[[targets]]
asset = "USDC@lab1"
share = "70%"
[[targets]]
asset = "USDC@lab2"
share = "40%"
[schedule]
cron = "every monday"
"""


def test_every_bad_field_is_named_once_with_its_fix(cfg: Config, tmp_path: Path) -> None:
    with pytest.raises(PolicyErrors) as exc:
        load_policy(write(tmp_path, BAD), cfg)
    fields = [p.field for p in exc.value.problems]
    assert fields == ["band", "targets[0].asset", "targets (USDC)", "schedule.cron"]
    by = {p.field: p for p in exc.value.problems}
    assert "negative" in by["band"].problem and by["band"].fix
    assert "not a configured asset" in by["targets[0].asset"].problem and "USDC@lab1" in str(by["targets[0].asset"].fix)
    assert "110%" in by["targets (USDC)"].problem or "150%" in by["targets (USDC)"].problem


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('[[targets]]\nasset = "USDC@lab1"\nshare = "120%"', "targets[0].share", "over 100%"),
        ('[[targets]]\nasset = "USDC@lab1"\nshare = "5"\namount = "1"', "targets[0]", "exactly one"),
        ('[[targets]]\nasset = "USDC@lab1"\namount = 1.5', "targets[0].amount", "floats round"),
        ('[[targets]]\nasset = "USDC@lab1"\nshare = "50%"\nband = "-3"', "targets[0].band", "negative"),
        ('[[targets]]\nasset = "USDC"\nshare = "5"', "targets[0].asset", "SYMBOL@LOCATION"),
        ('[[targets]]\nasset = "DOGE@lab1"\nshare = "5"', "targets[0].asset", "not a configured asset"),
        ('colour = "red"\n[[targets]]\nasset = "USDC@lab1"\nshare = "5"', "colour", "not a policy field"),
        ("band = 1", "targets", "missing or empty"),
        ('venues = ["lab7"]\n[[targets]]\nasset = "USDC@lab1"\nshare = "5"', "venues[0]", "not a configured"),
        ('[schedule]\nevery_s = 0\n[[targets]]\nasset = "USDC@lab1"\nshare = "5"', "schedule.every_s", "1 to"),
        ('[schedule]\nevery_s = 5\nmissed = "later"\n[[targets]]\nasset = "USDC@lab1"\nshare = "5"',
         "schedule.missed", "skip"),
        ('max_cost_bps = "-1"\n[[targets]]\nasset = "USDC@lab1"\nshare = "5"', "max_cost_bps", "negative"),
    ],
)  # fmt: skip
def test_one_bad_field(cfg: Config, tmp_path: Path, text: str, field: str, words: str) -> None:
    with pytest.raises(PolicyErrors) as exc:
        load_policy(write(tmp_path, text), cfg)
    assert [p.field for p in exc.value.problems] == [field]
    assert words in str(exc.value.problems[0])


def test_the_cli_exits_2_with_one_line_per_field_and_writes_nothing(cfg: Config, tmp_path: Path) -> None:
    conf = tmp_path / "fillpath.toml"
    data = tmp_path / "data"
    policy = write(tmp_path, BAD)
    env = {**os.environ, "FILLPATH_CONFIG": str(conf), "FILLPATH_DATA_DIR": str(data)}
    for argv in (["rebalance", "--policy", str(policy)], ["rebalance", "--policy", str(policy), "--execute"]):
        res = subprocess.run([sys.executable, "-m", "fillpath", *argv], capture_output=True, text=True, env=env,
                             timeout=60)  # fmt: skip
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr
        lines = res.stderr.strip().splitlines()
        assert lines[0].startswith("error:") and "4 problem(s)" in lines[0]
        assert [ln.strip().split(":")[0] for ln in lines[1:]] == ["band", "targets[0].asset", "targets (USDC)",
                                                                 "schedule.cron"]  # fmt: skip
    assert not data.exists() or not any(data.rglob("*.db")), "nothing written"
    missing = subprocess.run([sys.executable, "-m", "fillpath", "rebalance", "--policy", str(tmp_path / "no.toml")],
                             capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert missing.returncode == 2 and "no.toml" in missing.stderr


def test_schedule_next_and_list_from_the_policy_files(cfg: Config, tmp_path: Path) -> None:
    conf, data = tmp_path / "fillpath.toml", tmp_path / "data"
    env = {**os.environ, "FILLPATH_CONFIG": str(conf), "FILLPATH_DATA_DIR": str(data)}
    policy = write(tmp_path, GOOD)

    def fp(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "fillpath", *argv], capture_output=True, text=True, env=env,
                              timeout=60)  # fmt: skip

    got = fp("schedule", "next", "--policy", str(policy), "--count", "3", "--json")
    assert got.returncode == 0, got.stderr
    (row,) = json.loads(got.stdout)
    assert row["policy"] == "spread" and len(row["next"]) == 3
    secs = [int(t[17:19]) for t in row["next"]]
    assert all(s % 10 == 0 for s in secs) and row["run_ids"][0] == f"spread@{row['next'][0]}"
    listed = fp("schedule", "list", "--policy", str(policy), "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["last_run"] is None
    assert "no schedule" in fp("schedule", "list").stdout  # no service recorded any
    unscheduled = write(tmp_path, '[[targets]]\nasset = "USDC@lab1"\nshare = "5"', "plain.toml")
    refused = fp("schedule", "next", "--policy", str(unscheduled))
    assert refused.returncode == 2 and "schedule" in refused.stderr and "every_s" in refused.stderr
    assert not (data / "fillpath.db").exists(), "reading schedules creates no journal"
