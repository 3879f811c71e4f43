"""What a production install (no ``lab`` extra) can do: route offline, and say how to get the lab."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "router" / "data" / "snapshot_example.json"
WITHOUT_LAB = "import sys\nsys.modules['eth_tester'] = None\nfrom fillpath.cli.main import run\nrun(sys.argv[1:])\n"


def test_without_the_lab_extra_lab_up_names_the_extra_and_route_still_works() -> None:
    res = subprocess.run([sys.executable, "-c", WITHOUT_LAB, "lab", "up"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "pip install 'fillpath[lab]'" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1  # one line
    argv = ["route", "10", "WETH@ethereum", "USDC@ethereum", "--snapshot", str(EXAMPLE), "--json"]
    routed = subprocess.run([sys.executable, "-c", WITHOUT_LAB, *argv], capture_output=True, text=True, timeout=60)
    assert routed.returncode == 0, routed.stderr
    assert '"format": "fillpath.plan/1"' in routed.stdout


@pytest.mark.slow
def test_pip_install_without_extras_in_a_fresh_venv(tmp_path: Path) -> None:
    """The real thing: ``pip install .`` with no extra, then the two commands (from PyPI; cached after once)."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(ROOT)], check=True, timeout=900)
    probe = "import importlib.util as u; print(u.find_spec('eth_tester') is None, u.find_spec('evm') is None)"
    assert subprocess.run([str(py), "-c", probe], capture_output=True, text=True).stdout.split() == ["True", "True"]
    fp = env_dir / "bin" / "fillpath"
    routed = subprocess.run([str(fp), "route", "10", "WETH@ethereum", "USDC@ethereum", "--snapshot", str(EXAMPLE),
                             "--json"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert routed.returncode == 0, routed.stderr
    lab = subprocess.run([str(fp), "lab", "up"], capture_output=True, text=True, timeout=120)
    assert lab.returncode == 1 and "fillpath[lab]" in lab.stderr and "Traceback" not in lab.stderr
