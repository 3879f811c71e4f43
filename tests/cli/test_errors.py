"""User errors: one line naming the field and the fix, exit 2, no traceback (unless --debug)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fillpath", *args], capture_output=True, text=True, timeout=60)


def test_bad_config_field_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "fillpath.toml"
    cfg.write_text('[locations.x]\nchain_id = "abc"\nrpc = "http://h"\n')
    res = run("--config", str(cfg), "config", "show")
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "locations.x.chain_id" in lines[0]
    assert "Traceback" not in res.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    res = run("--debug", "--config", str(tmp_path / "missing.toml"), "config", "show")
    assert res.returncode != 0
    assert "Traceback" in res.stderr
    assert "InvalidInput" in res.stderr


def test_unknown_command_is_a_usage_error() -> None:
    res = run("lab", "bogus")
    assert res.returncode == 2
    assert "No such command" in res.stderr
    assert "Traceback" not in res.stderr


def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0
    assert res.stdout.startswith("fillpath ")
