from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "router" / "data" / "snapshot_example.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fillpath", *args], capture_output=True, text=True, timeout=60)


def test_show_summarizes_a_valid_snapshot() -> None:
    res = run("snapshot", "show", str(EXAMPLE))
    assert res.returncode == 0, res.stderr
    for kind in ("uniswap_v2", "uniswap_v3", "stableswap", "order_book", "bridge", "wrap", "aggregator"):
        assert kind in res.stdout
    normalized = json.loads(run("snapshot", "show", str(EXAMPLE), "--json").stdout)
    assert normalized["format"] == "fillpath.snapshot/1"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda s: s["venues"][0].__setitem__("reserve0", 1000), "venues[0].reserve0"),
        (lambda s: s.__setitem__("format", "fillpath.snapshot/2"), "format"),
        (lambda s: s["venues"][0].pop("token1"), "venues[0].token1"),
    ],
)
def test_a_bad_field_is_named_in_one_line(tmp_path: Path, edit: object, path: str) -> None:
    snap = json.loads(EXAMPLE.read_text())
    assert snap["venues"][0]["kind"] == "uniswap_v2"
    edit(snap)  # type: ignore[operator]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(snap))
    res = run("snapshot", "show", str(bad))
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and path in lines[0] and "Traceback" not in res.stderr
