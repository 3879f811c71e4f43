"""The layering of docs/ARCHITECTURE.md holds (import-linter), and a command loads only what it uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
HEAVY = ("web3", "ccxt", "sqlalchemy", "aiohttp", "eth_tester", "networkx")


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)  # fmt: skip


def test_the_import_contracts_hold() -> None:
    res = _lint(ROOT / "src")
    assert res.returncode == 0, res.stdout[-3000:]
    assert "0 broken" in res.stdout


@pytest.mark.parametrize(
    ("where", "line", "contract"),
    [
        ("router", "import fillpath.state.store", "The router is pure"),
        ("chains", "import fillpath.cex.connector", "Layers"),
        ("execution", "import fillpath.lab.manager", "Production never imports the lab"),
        ("state", "import eth_tester", "Test chains"),
    ],
)
def test_a_planted_wrong_import_is_caught(tmp_path: Path, where: str, line: str, contract: str) -> None:
    """The contracts have teeth: a copy of the package with one wrong import breaks the named contract."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "fillpath", copy / "fillpath", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "fillpath" / where / "_planted.py").write_text(line + "\n")
    res = _lint(copy)
    assert res.returncode != 0
    broken = res.stdout[res.stdout.index("Broken contracts") :]
    assert contract in broken


def _modules_after(*argv: str) -> set[str]:
    probe = (
        "import sys\nfrom fillpath.cli.main import run\ntry:\n    run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    res = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=60)
    return set(res.stderr.strip().splitlines()[-1].split())


@pytest.mark.parametrize(
    "argv",
    [
        ("--version",),
        ("--help",),
        (
            "route",
            "10",
            "WETH@ethereum",
            "USDC@ethereum",
            "--snapshot",
            str(ROOT / "tests" / "router" / "data" / "snapshot_example.json"),
            "--json",
        ),
    ],
)
def test_light_commands_load_no_adapter(argv: tuple[str, ...]) -> None:
    loaded = _modules_after(*argv)
    assert "fillpath.router" in loaded or argv[0].startswith("--")
    assert not [h for h in HEAVY if h in loaded]
    assert not [m for m in loaded if m.startswith("fillpath.lab")]


def test_the_command_table_matches_each_commands_own_help() -> None:
    """``cli.main.COMMANDS`` lists each command's help without importing it; it must say what the command says."""
    import importlib

    import typer

    from fillpath.cli.main import COMMANDS

    for name, entry in COMMANDS.items():
        module, attr = entry.target.split(":")
        obj = getattr(importlib.import_module(module), attr)
        doc = obj.info.help if isinstance(obj, typer.Typer) else obj.__doc__
        assert doc is not None, name
        assert entry.help == doc.strip().splitlines()[0].strip(), name
        assert entry.lab == module.startswith("fillpath.lab."), name
