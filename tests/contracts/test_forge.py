"""The Solidity suite (``contracts/test``, fuzz tests included) as part of the Python one, so ``make test``
runs it. forge builds into a temporary directory: the shared ``out/`` is what other test workers read. That directory
starts as a copy of ``out/`` and forge's cache (set-up built them from these sources), so forge compiles nothing when
the sources have not changed since (~6 s instead of ~40 s of solc-js); when they have, it compiles what changed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fillpath import paths

FUZZ_RUNS = 256


def test_forge_suite_passes(tmp_path: Path) -> None:
    root = paths.repo_root()
    if root is None:
        pytest.skip("not running from a source checkout: contracts/ is not here")
    forge = paths.binary("forge")
    env = {**os.environ, "FOUNDRY_FUZZ_RUNS": str(FUZZ_RUNS), "NO_COLOR": "1"}
    out, cache = _copy_of_the_build(root, tmp_path)
    cmd = [str(forge), "test", "--offline", "--root", str(root), "--out", str(out), "--cache-path", str(cache)]
    run = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    summary = re.findall(r"(\d+) tests passed, (\d+) failed", output)
    assert summary, output
    passed, failed = map(int, summary[-1])
    assert failed == 0
    assert passed >= 70, output  # the suite did run (a filter or a lost file would show here)
    assert f"runs: {FUZZ_RUNS}" in output, output


def _copy_of_the_build(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of set-up's ``out/`` and forge cache, the cache pointed at the copy (it records where the
    artifacts are: left as ``out``, forge would call the copy stale and compile everything again)."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    index = root / "cache" / "solidity-files-cache.json"
    if (root / "out").is_dir() and index.is_file():
        shutil.copytree(root / "out", out)
        cache.mkdir()
        record = json.loads(index.read_text())
        record["paths"]["artifacts"] = str(out)
        record["paths"]["build_infos"] = str(out / "build-info")
        (cache / index.name).write_text(json.dumps(record))
    return out, cache
