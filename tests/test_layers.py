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


def _modules_after(*argv: str, data_dir: Path | None = None) -> set[str]:
    probe = (
        "import sys\nfrom fillpath.cli.main import run\ntry:\n    run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    env = dict(os.environ)
    if data_dir is not None:  # a data directory with no lab and no journal: the command stops early, its imports done
        env["FILLPATH_DATA_DIR"] = str(data_dir)
        for name in ("FILLPATH_CONFIG", "FILLPATH_DATABASE_URL", "FILLPATH_SERVICE"):
            env.pop(name, None)
    res = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=60, env=env)
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


SIGNING = ("web3", "eth_account", "eth_keyfile", "py_ecc")
"""What only making, unlocking or using a key needs (eth-account's keyfile module builds BLS12-381 tables at import:
over a second of CPU per process)."""
ADAPTERS = tuple(h for h in HEAVY if h != "sqlalchemy")


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        (("events",), (*ADAPTERS, *SIGNING)),  # the journal alone: SQLAlchemy, no adapter
        (("report", "--last", "2"), (*ADAPTERS, *SIGNING)),
        (("venues",), (*ADAPTERS, *SIGNING)),
        (("db", "check"), (*ADAPTERS, *SIGNING)),
        (("resume", "labex"), (*ADAPTERS, *SIGNING)),
        (("lab", "status"), ("ccxt", "sqlalchemy", *SIGNING)),  # the lab's processes, by pid and a ping
        (("lab", "down"), ("ccxt", "sqlalchemy", *SIGNING)),
        (("reconcile",), SIGNING),  # reads venues, signs nothing
        (("balances", "--refresh"), SIGNING),
        (("swap", "1", "WETH@lab1", "USDC"), SIGNING),  # a dry run loads no key
    ],
)
def test_commands_load_only_the_adapters_they_use(
    tmp_path: Path, argv: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    """Each CLI command is a new process: what it imports is paid on every run (the README walkthrough runs three
    dozen). A journal-only command loads no adapter, and a command that signs nothing loads no signing stack."""
    loaded = _modules_after(*argv, data_dir=tmp_path / "data")
    assert any(m.startswith(("fillpath.cli.", "fillpath.lab.cli.")) for m in loaded), argv
    assert not [m for m in absent if m in loaded], argv


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
